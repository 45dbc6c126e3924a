"""Score yes/no verdicts: `rag ask --in QUESTIONS --out ANSWERS --json`, then

    .venv/bin/python scripts/score_verdicts.py QUESTIONS.jsonl ANSWERS.jsonl

A verdict is correct when it equals the gold one (gold `not_stated`: no verdict); wrong when one is
given and differs (the worst outcome); an abstention (no verdict on a stated gold) is neither.
Prints overall and per question language.
"""
import collections
import json
import sys


def main() -> int:
    gold = {g["id"]: g for g in map(json.loads, filter(str.strip, open(sys.argv[1], encoding="utf-8")))}
    answers = {a["id"]: a for a in map(json.loads, filter(str.strip, open(sys.argv[2], encoding="utf-8")))}
    rows = collections.defaultdict(collections.Counter)
    wrong_ids = []
    for qid, g in gold.items():
        a = answers.get(qid, {})
        said, want = a.get("verdict"), g["verdict"]
        if (said or "not_stated") == want:
            outcome = "correct"
        elif said is None:
            outcome = "abstained"
        else:
            outcome = "wrong"
            wrong_ids.append(f"{qid} (said {said}, gold {want})")
        for key in ("all", g["lang"]):
            rows[key][outcome] += 1
            rows[key]["n"] += 1
    for key in ["all"] + sorted(k for k in rows if k != "all"):
        c = rows[key]
        print(f"{key:4} n={c['n']:3}  correct {c['correct']:3} ({100 * c['correct'] / c['n']:5.1f}%)  "
              f"wrong {c['wrong']:3}  abstained {c['abstained']:3}")
    if wrong_ids:
        print("wrong: " + ", ".join(wrong_ids))
    return 0


if __name__ == "__main__":
    sys.exit(main())
