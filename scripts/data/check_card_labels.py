#!/usr/bin/env python3
"""Check a card-label file (the fact-card checklist of training policies, same shape as
tests/data/card_gold.jsonl): one line per company and card item,
{"company", "item", "status": "stated"|"not_stated", "evidence": [verbatim substrings]}.

Verifies: keys and types; item ids are those of rag/data/card_items.json; every company of the file
has every item exactly once and a policy file in DIR; `stated` has 1-12 evidence strings of 10-200
characters, `not_stated` none; every evidence string occurs in the policy (case-insensitive,
whitespace-normalised; HTML by its visible text). Exits non-zero on any failure. Standard library only.

usage: python3 check_card_labels.py LABELS.jsonl --policies DIR
"""
import argparse
import collections
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_extra import load_policies, norm  # noqa: E402

ITEMS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'rag', 'data', 'card_items.json')


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('labels')
    ap.add_argument('--policies', required=True)
    args = ap.parse_args(argv)
    items = [it['id'] for it in json.load(open(ITEMS_FILE, encoding='utf-8'))['items']]
    policies = load_policies(args.policies)
    seen = collections.defaultdict(list)
    failures = []
    counts = collections.Counter()
    for n, line in enumerate(open(args.labels, encoding='utf-8'), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            failures.append(f'line {n}: not JSON ({e})')
            continue
        where = f"line {n} ({row.get('company')}/{row.get('item')})"
        if set(row) != {'company', 'item', 'status', 'evidence'}:
            failures.append(f'{where}: keys must be company, item, status, evidence')
            continue
        if row['company'] not in policies:
            failures.append(f'{where}: no policy file for company')
            continue
        if row['item'] not in items:
            failures.append(f'{where}: unknown item')
        seen[row['company']].append(row['item'])
        ev = row['evidence']
        if row['status'] == 'stated':
            if not isinstance(ev, list) or not 1 <= len(ev) <= 12:
                failures.append(f'{where}: stated needs 1-12 evidence strings')
                ev = []
        elif row['status'] == 'not_stated':
            if ev:
                failures.append(f'{where}: not_stated has no evidence')
        else:
            failures.append(f'{where}: status must be stated or not_stated')
        for s in ev:
            if not isinstance(s, str) or not 10 <= len(s) <= 200:
                failures.append(f'{where}: evidence must be strings of 10-200 characters: {s!r}')
            elif norm(s) not in policies[row['company']]:
                failures.append(f'{where}: evidence not found in the policy: {s!r}')
        counts[(row['item'], row['status'])] += 1
    for company, got in seen.items():
        if sorted(got) != sorted(items):
            missing = set(items) - set(got)
            dup = [i for i, c in collections.Counter(got).items() if c > 1]
            failures.append(f'{company}: items missing {sorted(missing)} duplicated {dup}')
    for item in items:
        print(f"{item:22} stated {counts[(item, 'stated')]:3}  not_stated {counts[(item, 'not_stated')]:3}")
    print(f'{len(seen)} companies')
    for f in failures:
        print('FAIL', f)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
