"""Clean scraped policy text while keeping a map back to the original characters.

`clean_policy(original)` returns the cleaned text plus, for every cleaned character, the index of
the original character it came from. A span clean[a:b] therefore maps to original[offsets[a]:offsets[b-1]+1],
which is what makes every citation an exact span of the source file.

What is removed: blocks of repeated navigation lines, table-of-contents lines that are only a link,
markdown link syntax (the link text stays), bullets, runs of whitespace. Headings are recognised here,
where the line structure and the bullets are still known.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

BULLET = re.compile(r"^[ \t\xa0]*(?:[•●▪◦·‣∙\-*–—]|\d+[.)](?=\s+\S.{40,}))[ \t\xa0]+")
MD_LINK = re.compile(r"\[([^\]\n]{1,200})\]\(([^)\s]{0,300})\)")
LINK_ONLY_LINE = re.compile(r"^\s*(?:\[[^\]\n]{1,200}\]\([^)\s]{0,300}\)\s*)+$")
NUMBERED_HEADING = re.compile(r"^\d{1,2}(?:\.[0-9a-z]{1,2})*\.?\s+\S")
SENTENCE_END = re.compile(r"[.;,:!]$")
LABEL_VALUE = re.compile(r"\w\.?:\s+\S")  # "Email: info@x.be", "Telefonnr.: +49 30" are content
# A Markdown heading is a heading whatever its length ("#### 6. Outre le chercheur et son personnel,
# quelles autres personnes ont-elles accès à mes données à caractère personnel ?").
MD_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+\S")
MD_HEADING_CHARS = 250
# Contact details are content, never a title: an e-mail or web address, a phone number, a postal code
# with its town ("10117 Berlin"), a street with its number ("Charitéplatz 1").
CONTACT_LINE = re.compile(r"@|https?://|www\.|\+?\d[\d ()/.-]{6,}\d|^\d{4,5}\s+\S|^\S.*\s\d{1,4}[a-z]?$")
# Inline HTML tags in a Markdown or text policy ("<small>[1] ...</small>") are markup, not words.
INLINE_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]{0,15}(?:\s[^<>\n]{0,300})?/?>")
# In a very long line (HTML whose block tags were stripped) a no-break space marks a block boundary.
GLUED_LINE_CHARS = 500
BLOCK_NBSP = re.compile(r"\xa0+(?![\d?!:;])(?<!\d\xa0)")


@dataclass
class Heading:
    start: int  # offsets into the clean text
    end: int
    title: str


@dataclass
class CleanText:
    text: str
    offsets: list[int]
    headings: list[Heading] = field(default_factory=list)

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Original [start, end) for clean[start:end] (end exclusive)."""
        return self.offsets[start], self.offsets[end - 1] + 1


def _lines(original: str) -> list[tuple[int, int]]:
    """(start, end) of every line, end excluding the newline."""
    spans, pos = [], 0
    for line in original.split("\n"):
        spans.append((pos, pos + len(line)))
        pos += len(line) + 1
    return spans


def _is_short_plain(line: str) -> bool:
    s = line.strip()
    return 0 < len(s) <= 80 and not SENTENCE_END.search(s)


def _navigation_lines(original: str, lines: list[tuple[int, int]]) -> set[int]:
    """Indexes of lines in runs of short lines that mostly repeat elsewhere: site navigation."""
    texts = [original[a:b].strip() for a, b in lines]
    counts = Counter(t for t in texts if t)
    junk: set[int] = set()
    run: list[int] = []

    def close_run():
        if len(run) >= 4 and sum(counts[texts[i]] > 1 for i in run) * 2 >= len(run):
            junk.update(run)
        run.clear()

    for i, t in enumerate(texts):
        if not t:
            continue  # blank lines neither extend nor break a run
        if _is_short_plain(t) or t.startswith("…"):
            run.append(i)
        else:
            close_run()
    close_run()
    return junk


def _is_heading(line: str, next_line: str | None) -> bool:
    s = line.strip()
    if MD_HEADING.match(line) and len(s) <= MD_HEADING_CHARS:
        return next_line is not None
    if not s or len(s) > 90 or MD_LINK.search(s) or LABEL_VALUE.search(s) or CONTACT_LINE.search(s):
        return False
    words = s.split()
    if NUMBERED_HEADING.match(s) and len(words) <= 12 and not s.endswith("."):
        return True
    if s.endswith("?"):
        return len(words) <= 20 and next_line is not None and not next_line.strip().endswith("?")
    if SENTENCE_END.search(s) or len(words) > 10:
        return False
    # A heading is followed by text, not by the end of the document.
    return next_line is not None and len(s) >= 3 and not s[0].islower() or len(words) <= 6 and next_line is not None and len(next_line) > 2 * len(s)


def clean_policy(original: str) -> CleanText:
    lines = _lines(original)
    junk = _navigation_lines(original, lines)
    keep = [True] * len(original)
    line_break_at: set[int] = set()  # original indexes that act as line breaks (\xa0 in glued lines)
    kept_lines: list[tuple[int, int, bool]] = []  # (start, end, had_bullet)

    for i, (a, b) in enumerate(lines):
        line = original[a:b]
        if i in junk or LINK_ONLY_LINE.match(line):
            for k in range(a, min(b + 1, len(original))):
                keep[k] = False
            continue
        bullet = BULLET.match(line)
        if bullet:
            for k in range(a, a + bullet.end()):
                keep[k] = False
        for m in INLINE_TAG.finditer(line):
            for k in range(a + m.start(), a + m.end()):
                keep[k] = False
        for m in MD_LINK.finditer(line):
            keep[a + m.start()] = False  # "["
            for k in range(a + m.start(1) + len(m.group(1)), a + m.end()):
                keep[k] = False  # "](url)"
        if b - a > GLUED_LINE_CHARS:
            for m in BLOCK_NBSP.finditer(line):
                line_break_at.add(a + m.start())
        kept_lines.append((a, b, bool(bullet)))

    # Emit kept characters; a whitespace run becomes one "\n" (if it holds a line break) or one " ".
    out: list[str] = []
    offsets: list[int] = []
    ws_start = -1
    ws_newline = False
    for k, ch in enumerate(original):
        if not keep[k]:
            if ch == "\n":
                ws_newline = ws_newline or ws_start >= 0
            continue
        if ch.isspace():
            if ws_start < 0:
                ws_start = k
                ws_newline = False
            if ch == "\n" or k in line_break_at:
                ws_newline = True
            continue
        if ws_start >= 0:
            if out:
                out.append("\n" if ws_newline else " ")
                offsets.append(ws_start)
            ws_start = -1
        out.append(ch)
        offsets.append(k)
    text = "".join(out)
    return CleanText(text=text, offsets=offsets, headings=_find_headings(text, offsets, kept_lines, original))


def _find_headings(text: str, offsets: list[int], kept_lines: list[tuple[int, int, bool]],
                   original: str) -> list[Heading]:
    bullet_starts = set()
    for a, b, had_bullet in kept_lines:
        if had_bullet:
            bullet_starts.add(a)
    # Map original line starts to "this clean line came from a bulleted line".
    bulleted = sorted(bullet_starts)
    line_end = {a: b for a, b, _ in kept_lines}  # a dict, not a scan per line: linear in the lines
    headings: list[Heading] = []
    clean_lines, pos = [], 0
    for line in text.split("\n"):
        clean_lines.append((pos, pos + len(line)))
        pos += len(line) + 1
    import bisect

    # The short lines a line ending in ":" introduces are its content ("Nachfolgend finden Sie die
    # Kontaktdaten des Datenschutzbeauftragten:" and the address under it), up to a blank line of
    # the original or a line of running text.
    introduced = False
    previous_end = None
    for i, (a, b) in enumerate(clean_lines):
        if a >= b:
            continue
        orig = offsets[a]
        blank_before = previous_end is not None and original.count("\n", offsets[previous_end - 1], offsets[a]) >= 2
        line = text[a:b]
        introduced = introduced and not blank_before and len(line.strip()) <= 80
        previous_end = b
        follows_colon = i > 0 and text[clean_lines[i - 1][0]:clean_lines[i - 1][1]].rstrip().endswith(":")
        if follows_colon:
            introduced = True
        j = bisect.bisect_right(bulleted, orig) - 1
        if j >= 0 and bulleted[j] <= orig and orig <= line_end.get(bulleted[j], -1):
            continue
        nxt = text[clean_lines[i + 1][0]:clean_lines[i + 1][1]] if i + 1 < len(clean_lines) else None
        # (a title over a paragraph of running text stays a title: "Man kann 4 Arten von Cookies
        # unterscheiden:" / "Unerlässliche Cookies" / "Diese Cookies sind nötig, ...")
        if introduced and not MD_HEADING.match(line) and (nxt is None or len(nxt.strip()) <= 80):
            continue
        if _is_heading(line, nxt):
            headings.append(Heading(a, b, line.strip()))
            introduced = False
    return headings
