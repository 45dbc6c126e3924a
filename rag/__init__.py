"""Ask a privacy policy a question: `ask`, `stream_ask`, `search`, `companies`, `source_text`."""
from .chain import QuestionError, ask, companies, search, source_text, stream_ask  # noqa: F401
from .long_question import pick_question  # noqa: F401
