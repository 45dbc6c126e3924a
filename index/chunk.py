"""Section-aware, token-bounded chunks cut at sentence boundaries, with exact original offsets."""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache

from .clean import CleanText, clean_policy
from .tokens import count_tokens

LONG_LINE = 160  # shorter lines (list items, headings, short paragraphs) are one sentence each


@dataclass
class Sentence:
    start: int  # clean-text offsets
    end: int


@dataclass
class Chunk:
    company: str
    index: int
    start: int  # original offsets: source_text[start:end] == text
    end: int
    text: str
    clean: str  # cleaned text, what gets embedded and searched
    section: str
    language: str
    sentences: list[tuple[int, int]] = field(default_factory=list)  # original offsets of each sentence
    units: list[tuple[int, int]] = field(default_factory=list)  # what can be cited: see evidence_units

    @property
    def embed_text(self) -> str:
        """Section title first: it tells a short chunk what it is about."""
        if self.section and not self.clean.startswith(self.section):
            return f"{self.section}\n{self.clean}"
        return self.clean

    @property
    def embed_key(self) -> str:
        return hashlib.sha1(self.embed_text.encode("utf-8")).hexdigest()

    @property
    def id(self) -> str:
        return hashlib.sha1(f"{self.company}\0{self.start}\0{self.end}\0{self.embed_key}".encode()).hexdigest()

    def metadata(self) -> dict:
        return {
            "company": self.company,
            "index": self.index,
            "start": self.start,
            "end": self.end,
            "section": self.section,
            "language": self.language,
            "embed_key": self.embed_key,
            "sentences": json.dumps(self.sentences),
            "units": json.dumps(self.units),
            "text": self.text,
        }


@lru_cache(maxsize=8)
def _segmenter(language: str):
    import pysbd

    return pysbd.Segmenter(language=language if language in ("nl", "fr", "en", "de") else "en", clean=False, char_span=True)


# pysbd's time grows with the square of its input's length (80,000 characters without a line break:
# 16 s; a PDF extracted as one 2 MB line: hours). It only ever sees pieces of at most this many
# characters, cut first at a sentence end, then at whitespace, then anywhere: linear in the text.
SEGMENT_CHARS = 2000
_SENTENCE_CUT = re.compile(r"[.!?;:][\"'”’»)\]]*\s+")


def bounded_pieces(line: str, limit: int = SEGMENT_CHARS) -> list[tuple[int, int]]:
    """(start, end) offsets that tile `line` exactly, each at most `limit` characters long."""
    pieces, pos, n = [], 0, len(line)
    while n - pos > limit:
        window = line[pos:pos + limit]
        cut = 0
        for m in _SENTENCE_CUT.finditer(window, limit // 4):
            cut = m.end()  # the last sentence end in the window (not too close to its start)
        if not cut:
            space = max(window.rfind(" "), window.rfind("\t"), window.rfind("\xa0"))
            cut = space + 1 if space >= limit // 4 else limit
        pieces.append((pos, pos + cut))
        pos += cut
    if pos < n:
        pieces.append((pos, n))
    return pieces


def split_sentences(text: str, start: int, end: int, language: str) -> list[Sentence]:
    """Sentences of clean[start:end]: every line is at least one; long lines go through pysbd, in
    bounded pieces (see SEGMENT_CHARS)."""
    out: list[Sentence] = []
    pos = start
    for line in text[start:end].split("\n"):
        a, b = pos, pos + len(line)
        pos = b + 1
        if not line.strip():
            continue
        if len(line) <= LONG_LINE:
            out.append(Sentence(a, b))
            continue
        for p_start, p_end in bounded_pieces(line):
            for span in _segmenter(language).segment(line[p_start:p_end]):
                s, e = a + p_start + span.start, a + p_start + span.end
                while e > s and text[e - 1].isspace():
                    e -= 1
                if e > s:
                    out.append(Sentence(s, e))
    return out


_WORD = re.compile(r"\S{1,100}")  # a run of 100 characters without a space counts as a word too


def _split_oversized(text: str, sentence: Sentence, max_tokens: int) -> list[Sentence]:
    """A sentence longer than the bound is cut at word boundaries (scraped lists glued together, text
    without punctuation). Tokens are counted once for the whole sentence: linear in its length."""
    from bisect import bisect_right

    from .tokens import encoding

    enc = encoding()
    _, token_starts = enc.decode_with_offsets(enc.encode(text[sentence.start:sentence.end], disallowed_special=()))

    def tokens_before(offset: int) -> int:
        return bisect_right(token_starts, offset - sentence.start - 1)

    pieces, piece_start, last_end = [], sentence.start, None
    for m in _WORD.finditer(text, sentence.start, sentence.end):
        if last_end is not None and tokens_before(m.end()) - tokens_before(piece_start) > max_tokens:
            pieces.append(Sentence(piece_start, last_end))
            piece_start = m.start()
        last_end = m.end()
    pieces.append(Sentence(piece_start, sentence.end))
    return pieces


def chunk_policy(company: str, original: str, language: str, max_tokens: int = 180,
                 cleaned: CleanText | None = None) -> list[Chunk]:
    cleaned = cleaned or clean_policy(original)
    text = cleaned.text
    bounds = [(h.start, h.end, h.title) for h in cleaned.headings]
    # Sections: (heading start or 0, body start, body end, title)
    sections: list[tuple[int, int, int, str]] = []
    first = bounds[0][0] if bounds else len(text)
    if first > 0:
        sections.append((0, 0, first, ""))
    pending_title, pending_start = "", None
    for i, (h_start, h_end, title) in enumerate(bounds):
        body_end = bounds[i + 1][0] if i + 1 < len(bounds) else len(text)
        if pending_start is None:
            pending_start, pending_title = h_start, title
        else:
            pending_title = f"{pending_title} – {title}"
        if text[h_end:body_end].strip():
            sections.append((pending_start, h_end, body_end, pending_title))
            pending_start, pending_title = None, ""
    if pending_start is not None:
        sections.append((pending_start, pending_start, len(text), pending_title))

    chunks: list[Chunk] = []

    def emit(c_start: int, sents: list[Sentence], title: str):
        c_end = sents[-1].end if sents else c_start
        while c_end > c_start and text[c_end - 1].isspace():
            c_end -= 1
        if c_end <= c_start:
            return
        o_start, o_end = cleaned.original_span(c_start, c_end)
        spans = [cleaned.original_span(s.start, s.end) for s in sents]
        chunks.append(Chunk(
            company=company, index=len(chunks), start=o_start, end=o_end, text=original[o_start:o_end],
            clean=text[c_start:c_end], section=title, language=language,
            sentences=spans, units=evidence_units(o_start, spans, original),
        ))

    for sec_start, body_start, body_end, title in sections:
        sentences: list[Sentence] = []
        for s in split_sentences(text, body_start, body_end, language):
            sentences.extend(_split_oversized(text, s, max_tokens) if count_tokens(text[s.start:s.end]) > max_tokens else [s])
        if not sentences:
            continue
        c_start, current = sec_start, []
        for s in sentences:
            if count_tokens(text[c_start:s.end]) > max_tokens:
                # A sentence that introduces what follows ("... die Kontaktdaten der verantwortlichen
                # Stelle:") opens the next chunk, with the short lines it introduced so far: the
                # block (an address, a list) is not cut from its introduction.
                k = _introduced_block_start(text, current, s)
                carried = current[k:] if k else []
                current = current[:k] if k else current
                if current:
                    emit(c_start, current, title)
                if carried:
                    c_start, current = carried[0].start, carried
                    if count_tokens(text[c_start:s.end]) <= max_tokens:
                        current.append(s)
                        continue
                    emit(c_start, current, title)
                # (with no sentence yet: the headings do not fit beside the first sentence; the chunk
                # starts at the sentence, and the section title still names them)
                c_start, current = s.start, []
            current.append(s)
        emit(c_start, current, title)
    return chunks


def _introduced_block_start(text: str, current: list[Sentence], following: Sentence) -> int:
    """Index in `current` of a sentence ending in ":" followed only by short lines (and `following`
    short too, or nothing yet after it): where the chunk should be cut instead. 0 when there is none."""
    def short(x: Sentence) -> bool:
        return x.end - x.start <= SHORT_LINE and "\n" not in text[x.start:x.end]

    for k in range(len(current) - 1, 0, -1):
        if text[current[k].start:current[k].end].rstrip().endswith(":"):
            rest = current[k + 1:]
            return k if all(short(x) for x in rest) and (not rest or short(following)) else 0
        if not short(current[k]):
            return 0
    return 0


SHORT_LINE = 70  # consecutive short lines (list items) are cited together as one block
MAX_BLOCK = 900


def evidence_units(chunk_start: int, sentences: list[tuple[int, int]], original: str) -> list[tuple[int, int]]:
    """The spans a citation can be: sentences, with runs of short list lines merged into one block.
    When the chunk opens with a question heading (an FAQ), its first answer sentence is cited with
    the question: "Nee." means nothing on its own."""
    units: list[list] = []
    rest = sentences
    if sentences and chunk_start < sentences[0][0]:
        heading = original[chunk_start:sentences[0][0]].strip()
        if heading.endswith("?") and "\n" not in heading:
            units.append([chunk_start, sentences[0][1], False])
            rest = sentences[1:]
    for s, e in rest:
        short = e - s <= SHORT_LINE and "\n" not in original[s:e].strip()
        introduces = original[s:e].rstrip().endswith(":")  # opens a block of its own
        if units and short and not introduces and e - units[-1][0] <= MAX_BLOCK and original[units[-1][1]:s].count("\n") <= 2 and (
                units[-1][2] or original[units[-1][0]:units[-1][1]].rstrip().endswith(":")):
            units[-1][1] = e  # a list block, or a sentence introducing a list ("... de volgende gegevens:")
            units[-1][2] = True
        else:
            units.append([s, e, short])
    return [(s, e) for s, e, _ in units]
