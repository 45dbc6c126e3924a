"""Exports of the compare table and the card matrix as CSV, Markdown and JSON (CLI and browser).

Each quote keeps its source, start, end and section, so every exported quote can be checked:
source_text[start:end] == quote. CSV goes through the csv module (quotes, commas and newlines in
policy text stay one cell); Markdown cells escape pipes, backslashes and angle brackets and put a
cell on one line, so policy text can neither break the table nor become HTML.
"""
from __future__ import annotations

import csv
import io
import json

from .schema import Answer

FORMATS = ("csv", "md", "json")
QUOTE_COLUMNS = ["quote", "translation", "source", "start", "end", "section"]
COMPARE_COLUMNS = ["company", "status", "verdict", "answer", *QUOTE_COLUMNS]
CARD_COLUMNS = ["company", "item", "status", "verdict", "answer", *QUOTE_COLUMNS]
MAX_CELL = 300  # characters of one quote in a Markdown cell; CSV and JSON keep every character
MATRIX_QUOTE = 100  # the start of the best quote in a card matrix cell


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: choose csv, md or json")
    return fmt


def _translation(citation) -> str:
    # Citation.translation is being added to the contract; older answers and cached cards lack it.
    value = citation.get("translation") if isinstance(citation, dict) else getattr(citation, "translation", None)
    return value or ""


def _quote_cells(citation) -> dict:
    get = citation.get if isinstance(citation, dict) else lambda k: getattr(citation, k)
    return {"quote": get("text"), "translation": _translation(citation), "source": get("source"),
            "start": get("start"), "end": get("end"), "section": get("section") or ""}


def _empty_quote() -> dict:
    return {k: "" for k in QUOTE_COLUMNS}


def compare_rows(results: list[tuple[str, Answer | None, str | None]]) -> list[dict]:
    """One row per (company, citation); a company without citations (not_found, or an error) has one
    row with an empty quote."""
    rows = []
    for company, answer, error in results:
        if answer is None:
            rows.append({"company": company, "status": "error", "verdict": "", "answer": error or "", **_empty_quote()})
            continue
        head = {"company": company, "status": answer.status, "verdict": answer.verdict or "", "answer": answer.answer}
        rows.extend([{**head, **_quote_cells(c)} for c in answer.citations] or [{**head, **_empty_quote()}])
    return rows


def card_rows(cards: list[dict]) -> list[dict]:
    """One row per (company, item, citation); an item without citations has one row, quote empty."""
    rows = []
    for card in cards:
        for item in card["items"]:
            head = {"company": card["company"], "item": item["id"], "status": item["status"],
                    "verdict": item.get("verdict") or "", "answer": item["answer"]}
            rows.extend([{**head, **_quote_cells(c)} for c in item["citations"]] or [{**head, **_empty_quote()}])
    return rows


def to_csv(rows: list[dict], columns: list[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def md_cell(text, limit: int | None = None) -> str:
    text = " ".join(str("" if text is None else text).split())
    if limit and len(text) > limit:
        text = text[:limit - 1].rstrip() + "…"
    return (text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
            .replace("`", "\\`"))


def md_table(header: list[str], body: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in body]
    return "\n".join(lines) + "\n"


def _quotes_md(citations) -> str:
    parts = []
    for c in citations:
        cells = _quote_cells(c)
        where = f" ({md_cell(cells['section'])}, {cells['start']}-{cells['end']})"
        parts.append(f"[{c['n'] if isinstance(c, dict) else c.n}] {md_cell(cells['quote'], MAX_CELL)}{where}")
    return "<br>".join(parts)


def compare_markdown(question: str, results: list[tuple[str, Answer | None, str | None]],
                     names: dict[str, str] | None = None) -> str:
    """One table row per company: company, status, verdict, answer, quotes."""
    names = names or {}
    body = []
    for company, answer, error in results:
        name = md_cell(names.get(company, company))
        if answer is None:
            body.append([name, "error", "", md_cell(error), ""])
        else:
            body.append([name, answer.status, answer.verdict or "", md_cell(answer.answer),
                         _quotes_md(answer.citations)])
    return f"**{md_cell(question)}**\n\n" + md_table(["Company", "Status", "Verdict", "Answer", "Quotes"], body)


def card_matrix_markdown(cards: list[dict], labels: dict[str, str] | None = None,
                         stated: str = "stated", not_stated: str = "**not stated**") -> str:
    """The card matrix: one row per item, one column per company; a cell is the status, the verdict
    when there is one and the start of the best quote with its offsets."""
    if not cards:
        return md_table(["Item"], [])
    labels = labels or {}
    header = ["Item"] + [md_cell(card.get("name") or card["company"]) for card in cards]
    body = []
    for i, item in enumerate(cards[0]["items"]):
        row = [md_cell(labels.get(item["id"], item["id"]))]
        for card in cards:
            cell = card["items"][i]
            if cell["status"] != "stated":
                row.append(not_stated)
                continue
            verdict = f" ({cell['verdict']})" if cell.get("verdict") else ""
            first = cell["citations"][0] if cell["citations"] else None
            quote = f": “{md_cell(first['text'], MATRIX_QUOTE)}” [{first['start']}-{first['end']}]" if first else ""
            row.append(f"{stated}{verdict}{quote}")
        body.append(row)
    return md_table(header, body)


def compare_json(question: str, results: list[tuple[str, Answer | None, str | None]]) -> dict:
    return {"question": question,
            "results": [answer.to_json() if answer is not None else {"company": company, "error": error}
                        for company, answer, error in results]}


def dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=1) + "\n"


def export_compare(fmt: str, question: str, results: list, names: dict[str, str] | None = None) -> str:
    check_format(fmt)
    if fmt == "csv":
        return to_csv(compare_rows(results), COMPARE_COLUMNS)
    if fmt == "md":
        return compare_markdown(question, results, names)
    return dumps(compare_json(question, results))


def export_cards(fmt: str, cards: list[dict], labels: dict[str, str] | None = None) -> str:
    check_format(fmt)
    if fmt == "csv":
        return to_csv(card_rows(cards), CARD_COLUMNS)
    if fmt == "md":
        return card_matrix_markdown(cards, labels)
    from .card import public_card

    return dumps({"language": cards[0]["language"] if cards else "", "cards": [public_card(c) for c in cards]})
