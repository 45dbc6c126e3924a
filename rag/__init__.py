"""Ask a privacy policy a question: `ask`, `stream_ask`, `search`, `companies`, `source_text`."""
from .chain import QuestionError, ask, companies, search, source_text, stream_ask  # noqa: F401
