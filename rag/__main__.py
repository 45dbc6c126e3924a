"""`python -m rag`: companies, ask, search, eval, versions, diff, letter, card, compare. A thin CLI over the Python API in rag/.

Errors end with a non-zero exit and one line on stderr (and {"error": ...} on stdout with --json),
never a traceback.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from index.load import UnreadablePolicy
from index.settings import get_settings
from index.store import StoreError
from index.versions import VersionError

from .chain import QuestionError, ask, companies, search


def _settings(args):
    return get_settings().with_store(args.store)


def _print_json(obj) -> None:
    print(json.dumps(obj, ensure_ascii=False))


def _read_jsonl(path: str) -> list[dict]:
    rows = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise QuestionError(f"cannot read {path}: {exc.strerror}") from None
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            raise QuestionError(f"{path}:{i}: not a JSON object line") from None
        if not isinstance(row, dict):
            raise QuestionError(f"{path}:{i}: expected an object with company and question")
        rows.append(row)
    return rows


def _batch(args, handle) -> int:
    """--in/--out: one output line per input line; a bad line gets {"id", "error"} and the rest go on."""
    rows = _read_jsonl(args.inp)
    out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout
    failures = 0
    try:
        for row in rows:
            try:
                result = handle(row.get("company", ""), row.get("question", ""), row.get("id"))
            except (QuestionError, StoreError) as exc:
                failures += 1
                result = {"id": row.get("id"), "company": row.get("company"), "question": row.get("question"),
                          "error": str(exc)}
            out.write(json.dumps(result, ensure_ascii=False) + "\n")
            out.flush()
    finally:
        if out is not sys.stdout:
            out.close()
    if failures:
        print(f"{failures} of {len(rows)} question(s) failed: see their \"error\" field", file=sys.stderr)
    return 1 if failures == len(rows) and rows else 0


def cmd_companies(args) -> int:
    found = companies(_settings(args))
    if args.json:
        _print_json([{"id": cid, **info} for cid, info in sorted(found.items())])
    else:
        for cid, info in sorted(found.items()):
            print(f"{cid:16} {info['name']:28} {info.get('language', '?'):3} {info.get('chunks', 0):4} chunks  {info['source']}")
    return 0


def cmd_ask(args) -> int:
    settings = _settings(args)
    if args.inp:
        return _batch(args, lambda c, q, i: ask(c, q, settings=settings, backend=args.backend, id=i).to_json())
    if not args.company or args.question is None:
        raise QuestionError("give --company ID and a question (or --in FILE.jsonl)")
    answer = ask(args.company, args.question, settings=settings, backend=args.backend)
    if args.json:
        _print_json(answer.to_json())
        return 0
    if answer.notice:
        print(f"({answer.notice})")
    print(answer.answer)
    for c in answer.citations:
        section = f" [{c.section}]" if c.section else ""
        print(f"\n[{c.n}]{section} {c.source}:{c.start}-{c.end}\n    {' '.join(c.text.split())}")
    print(f"\n({answer.backend}, {answer.status}, {sum(answer.timings_ms.values())} ms)")
    return 0


def cmd_search(args) -> int:
    settings = _settings(args)

    def run(company, question, qid):
        passages = search(company, question, settings=settings, k=args.k)
        return {"id": qid, "company": company, "question": question, "passages": [p.to_json() for p in passages]}

    if args.inp:
        return _batch(args, run)
    if not args.company or args.question is None:
        raise QuestionError("give --company ID and a question (or --in FILE.jsonl)")
    result = run(args.company, args.question, None)
    if args.json:
        _print_json(result)
    else:
        for p in result["passages"]:
            print(f"[{p['n']}] {p['score']:.4f} {p['section'] or '-'} ({p['start']}-{p['end']})\n    {' '.join(p['text'].split())[:300]}")
    return 0


def cmd_eval(args) -> int:
    from .evaluate import evaluate, report

    if not Path(args.gold).is_file():
        raise QuestionError(f"no gold file at {args.gold}")
    result = evaluate(args.gold, _settings(args), backend=args.backend, k=args.k)
    if args.json:
        _print_json({"k": result["k"], "peak_rss_mb": result["peak_rss_mb"], "rows": result["rows"]})
    else:
        print(report(result))
    return 0


def cmd_eval_card(args) -> int:
    from .card_eval import evaluate_cards, report

    if not Path(args.gold).is_file():
        raise QuestionError(f"no gold file at {args.gold}")
    languages = [lang.strip() for lang in args.lang.split(",") if lang.strip()]
    result = evaluate_cards(args.gold, _settings(args), languages, k=args.k, refresh=args.refresh)
    if args.json:
        _print_json(result)
    else:
        print(report(result))
    return 0


def cmd_versions(args) -> int:
    from .versions import versions_json

    result = versions_json(args.company, _settings(args))
    if args.json:
        _print_json(result)
    else:
        for v in result["versions"]:
            live = "  (live)" if v["live"] else ""
            print(f"{v['n']:3}  {v['date']}  {v['sha256'][:12]}  {v['chars']:7} chars  {v['source']}{live}")
    return 0


def cmd_diff(args) -> int:
    from .diff import diff_versions

    result = diff_versions(args.company, _settings(args), args.from_version, args.to_version, args.lang)
    if args.json:
        _print_json(result)
        return 0
    print(result["summary"])
    for n, pair in enumerate(result["changed"], 1):
        print(f"\n[{n}] changed ({pair['new']['section'] or '-'}):\n  - {' '.join(pair['old']['text'].split())}"
              f"\n  + {' '.join(pair['new']['text'].split())}")
    for kind, mark in (("removed", "-"), ("added", "+")):
        for span in result[kind]:
            print(f"\n{kind} ({span['section'] or '-'}):\n  {mark} {' '.join(span['text'].split())}")
    return 0


def cmd_letter(args) -> int:
    from .letter import letter_markdown, write_letter

    result = write_letter(args.company, args.right, args.lang, args.name, _settings(args))
    if args.out:
        text = letter_markdown(result) if args.out.lower().endswith(".md") else result["letter"]
        Path(args.out).write_text(text, encoding="utf-8")
    if args.json:
        _print_json(result)
    elif args.out:
        print(f"letter written to {args.out}")
    else:
        print(result["letter"], end="")
        for c in result["citations"]:
            print(f"\n[{c['n']}] {c['source']}:{c['start']}-{c['end']}\n    {' '.join(c['text'].split())}")
    return 0


def _write_or_print(text: str, out: str | None, what: str) -> None:
    if out:
        Path(out).write_text(text, encoding="utf-8", newline="")
        print(f"{what} written to {out}", file=sys.stderr)
    else:
        sys.stdout.write(text)


def cmd_card(args) -> int:
    from .card import all_cards, company_card, item_ids, public_card
    from .export import check_format, export_cards

    settings = _settings(args)
    fmt = check_format(args.format) if args.format else None
    if bool(args.all) == bool(args.company):
        raise QuestionError("give --company ID or --all")
    if args.all:
        cards = all_cards(settings, args.lang, args.backend, refresh=args.refresh)
    else:
        cards = [company_card(args.company, settings, args.lang, args.backend, refresh=args.refresh)]
    if args.json or fmt == "json" or (fmt is None and args.all):
        text = (export_cards("json", cards) if args.all
                else json.dumps(public_card(cards[0]), ensure_ascii=False, indent=1) + "\n")
        _write_or_print(text, args.out, "card")
        return 0
    if fmt:
        _write_or_print(export_cards(fmt, cards), args.out, "card")
        return 0
    card = cards[0]
    lines = [f"{card['name']} ({card['company']}), {len(item_ids())} items, language {card['language']}"]
    for row in card["items"]:
        mark = "stated    " if row["status"] == "stated" else "NOT STATED"
        lines.append(f"\n{row['id']:20} {mark} {' '.join(row['answer'].split())}")
        for c in row["citations"]:
            lines.append(f"    [{c['n']}] {c['source']}:{c['start']}-{c['end']} {' '.join(c['text'].split())[:160]}")
    _write_or_print("\n".join(lines) + "\n", args.out, "card")
    return 0


def cmd_compare(args) -> int:
    from .compare import compare_answers, parse_companies
    from .export import check_format, export_compare

    settings = _settings(args)
    fmt = check_format(args.format or "md")  # checked before any work, --json or not
    fmt = "json" if args.json else fmt
    if args.lang:
        from .card import check_language

        check_language(args.lang)
    ids = parse_companies(args.companies, settings)
    results = [(company, answer, str(error) if error else None)
               for company, answer, error in compare_answers(ids, args.question, settings, args.backend, args.lang)]
    names = {c: info.get("name", c) for c, info in companies(settings).items()}
    _write_or_print(export_compare(fmt, args.question, results, names), args.out, "comparison")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m rag", description="Ask privacy policies questions, with exact citations.")
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp):
        sp.add_argument("--store", help="index folder (default: PLAINPOLICY_STORE or ./store)")
        sp.add_argument("--json", action="store_true", help="print JSON")
        return sp

    sp = common(sub.add_parser("companies", help="list the indexed companies"))
    sp.set_defaults(func=cmd_companies)
    for name, func, help_ in (("ask", cmd_ask, "answer a question (or --in/--out JSONL)"),
                              ("search", cmd_search, "show the best passages (or --in/--out JSONL)")):
        sp = common(sub.add_parser(name, help=help_))
        sp.add_argument("--company", help="company id (the policy file's stem)")
        sp.add_argument("--in", dest="inp", metavar="FILE", help="JSONL of {id, company, question}")
        sp.add_argument("--out", metavar="FILE", help="write JSONL here (default: stdout)")
        sp.add_argument("question", nargs="?", help="the question, in nl/fr/en/de")
        if name == "ask":
            sp.add_argument("--backend", choices=["extractive", "local", "openai"], help="default: the best one installed")
        else:
            sp.add_argument("--k", type=int, default=5, help="number of passages (default 5)")
        sp.set_defaults(func=func)
    sp = common(sub.add_parser("eval", help="evaluate on a gold JSONL file"))
    sp.add_argument("gold", help="gold questions (see design.md)")
    sp.add_argument("--backend", choices=["extractive", "local", "openai"], default="extractive")
    sp.add_argument("--k", type=int, default=3, help="evidence hit@k (default 3)")
    sp.set_defaults(func=cmd_eval)
    sp = common(sub.add_parser("eval-card", help="score fact cards on a gold checklist (tests/data/card_gold.jsonl)"))
    sp.add_argument("gold", help="gold checklist JSONL: company, item, status, evidence")
    sp.add_argument("--lang", default="en", help="card language(s), comma-separated (default en)")
    sp.add_argument("--k", type=int, default=3, help="evidence hit@k (default 3)")
    sp.add_argument("--refresh", action="store_true", help="recompute the cards, ignoring the cache")
    sp.set_defaults(func=cmd_eval_card)
    sp = common(sub.add_parser("versions", help="list the versions of a policy that index build kept"))
    sp.add_argument("--company", required=True, help="company id")
    sp.set_defaults(func=cmd_versions)
    sp = common(sub.add_parser("diff", help="added, removed and changed sentences between two versions"))
    sp.add_argument("--company", required=True, help="company id")
    sp.add_argument("--from", dest="from_version", metavar="V", help="older version number (default: the one before --to)")
    sp.add_argument("--to", dest="to_version", metavar="V", help="newer version number (default: the newest)")
    sp.add_argument("--lang", default="en", help="language of the summary: en, nl, fr or de (default en)")
    sp.set_defaults(func=cmd_diff)
    sp = common(sub.add_parser("letter", help="a GDPR rights-request letter to the contact the policy names"))
    sp.add_argument("--company", required=True, help="company id")
    sp.add_argument("--right", required=True, help="access|rectification|erasure|restriction|portability|objection")
    sp.add_argument("--lang", default="en", help="language of the letter: en, nl, fr or de (default en)")
    sp.add_argument("--name", help="your name (default: a placeholder)")
    sp.add_argument("--out", metavar="FILE", help="also write the letter here (.md: Markdown with the sources)")
    sp.set_defaults(func=cmd_letter)
    sp = common(sub.add_parser("card", help="privacy fact card: the GDPR Art. 13 checklist of a policy"))
    sp.add_argument("--company", help="company id")
    sp.add_argument("--all", action="store_true", help="every indexed company: the card matrix")
    sp.add_argument("--lang", default="en", help="language of the answers: en, nl, fr or de (default en)")
    sp.add_argument("--format", help="csv, md or json (default: text for one company, json for --all)")
    sp.add_argument("--out", metavar="FILE", help="write here instead of stdout")
    sp.add_argument("--backend", choices=["extractive", "local", "openai"], default="extractive")
    sp.add_argument("--refresh", action="store_true", help="recompute, ignoring the cached card")
    sp.set_defaults(func=cmd_card)
    sp = common(sub.add_parser("compare", help="one question asked of several companies, as a table"))
    sp.add_argument("--companies", required=True, help="company ids, comma-separated")
    sp.add_argument("--question", required=True, help="the question, in nl/fr/en/de")
    sp.add_argument("--format", help="csv, md or json (default md; --json means json)")
    sp.add_argument("--out", metavar="FILE", help="write here instead of stdout")
    sp.add_argument("--lang", help="language to answer in when the question's own is unclear")
    sp.add_argument("--backend", choices=["extractive", "local", "openai"], default="extractive")
    sp.set_defaults(func=cmd_compare)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (QuestionError, StoreError, VersionError, UnreadablePolicy, ValueError, OSError) as exc:
        message = str(exc) or type(exc).__name__
    except KeyboardInterrupt:
        message = "interrupted"
    except Exception as exc:  # the promise is one line, never a traceback
        message = f"unexpected error: {type(exc).__name__}: {exc}"
    if getattr(args, "json", False):
        _print_json({"error": message})
    print(f"error: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
