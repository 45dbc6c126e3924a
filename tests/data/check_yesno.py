#!/usr/bin/env python3
"""Check newpolicies_yesno.jsonl against the policies of shared/eval/newpolicies-dev, with the
project's one gold checker (scripts/data/check_extra.py): keys, ids yn-<company>-<n>-<lang>, unique
ids, yes/no type and verdict values, answerable == (verdict != 'not_stated'), 1-3 evidence strings
of 10-80 characters found in the policy's (visible, for HTML) text, answer_must_contain [], and
every policy asked about. Exits non-zero on any failure.

usage: python3 check_yesno.py [questions.jsonl]
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'scripts', 'data'))

import check_extra  # noqa: E402

POL = os.path.normpath(os.path.join(HERE, '..', '..', '..', 'shared', 'eval', 'newpolicies-dev', 'policies'))
DEFAULT = os.path.join(HERE, 'newpolicies_yesno.jsonl')

if __name__ == '__main__':
    check_extra.main([sys.argv[1] if len(sys.argv) > 1 else DEFAULT, '--policies', POL, '--id-prefix', 'yn',
                      '--yesno-only', '--every-policy'])
