"""Policy files -> clean text with offsets -> section-aware chunks -> embeddings -> Chroma."""
from .build import BuildReport, add_policy, build_index  # noqa: F401
from .load import SUPPORTED_SUFFIXES, UnreadablePolicy  # noqa: F401
from .settings import Settings, get_settings  # noqa: F401
from .store import StoreError  # noqa: F401
