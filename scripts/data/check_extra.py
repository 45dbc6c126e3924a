#!/usr/bin/env python3
"""Check extra_train.jsonl (extra gold questions over the PolicyQA dev policies).

Verifies, for every line:
- the keys and their types (same shape as shared/eval/train-multilingual/questions.jsonl),
- the id pattern xt-<company>-<n>-<lang> and that ids are unique,
- that the company has a policy file, lang is nl|fr|en|de, type is open|yesno,
- the verdict rules: yes/no questions carry yes|no|conditional|not_stated, not_stated exactly
  when unanswerable; open questions carry no verdict,
- evidence: 1-3 strings of 10-80 characters on answerable questions, none on unanswerable ones,
  every string found in its policy (case-insensitive, whitespace-normalised), no two strings of a
  question overlapping or starting in the same sentence,
- answer_must_contain: a list of non-empty lists of strings, [] on unanswerable questions, and
  every group has at least one alternative that occurs in the policy text.

Prints counts per language, type, verdict and company; exits non-zero on any failure.
Standard library only.

The one checker of our gold files: tests/data/check_yesno.py calls it for the yes/no report set.

usage: python3 check_extra.py [questions.jsonl] [--policies DIR] [--id-prefix RE] [--yesno-only] [--every-policy]
- DIR defaults to ../shared/eval/policyqa-dev/policies. HTML policies are checked against their
  visible text (tags, script and style removed, entities unescaped), others as raw text, so
  evidence in a Markdown file must be a plain run of words without markup.
- --id-prefix: the ids' prefix (a regular expression; default x[a-z], as in xt-, xy-, xm-).
- --yesno-only: every question is yes/no and answer_must_contain is [].
- --every-policy: every policy of DIR has at least one question.
"""
import argparse
import collections
import html
import json
import os
import re
import sys
from html.parser import HTMLParser

HERE = os.path.dirname(os.path.abspath(__file__))
POL = os.path.normpath(os.path.join(HERE, '..', '..', '..', 'shared', 'eval', 'policyqa-dev', 'policies'))
DEFAULT = os.path.join(HERE, 'extra_train.jsonl')
LANGS = {'nl', 'fr', 'en', 'de'}
TYPES = {'open', 'yesno'}
VERDICTS = {'yes', 'no', 'conditional', 'not_stated'}
KEYS = {'id', 'company', 'lang', 'question', 'answerable', 'type', 'evidence', 'answer_must_contain'}
OPTIONAL = {'verdict', 'kind'}  # kind: off_topic | not_privacy (the extra_offtopic_* files)
# a sentence ends at . ! or ? followed by whitespace (abbreviations such as "e.g." only add
# boundaries, which can hide a same-sentence pair but never raise a false failure)
SENT_END = re.compile(r'[.!?]["\')\]]*\s')


def norm(s):
    return re.sub(r'\s+', ' ', s).strip().lower()


class _Text(HTMLParser):
    """The visible text of an HTML page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out, self.skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ('script', 'style', 'noscript', 'template'):
            self.skip += 1
        self.out.append(' ')

    def handle_endtag(self, tag):
        if tag in ('script', 'style', 'noscript', 'template'):
            self.skip = max(0, self.skip - 1)
        self.out.append(' ')

    def handle_data(self, data):
        if not self.skip:
            self.out.append(data)


def policy_text(path):
    with open(path, encoding='utf-8') as fh:
        raw = fh.read()
    if path.endswith(('.html', '.htm')):
        p = _Text()
        p.feed(raw)
        p.close()
        raw = html.unescape(''.join(p.out))
    return norm(raw)


def load_policies(folder):
    if not os.path.isdir(folder):
        print(f'policies folder not found: {folder}')
        sys.exit(2)
    return {os.path.splitext(f)[0]: policy_text(os.path.join(folder, f)) for f in sorted(os.listdir(folder))}


def sentence_index(text, pos):
    return sum(1 for m in SENT_END.finditer(text, 0, pos))


def main(argv=None):
    ap = argparse.ArgumentParser(description='Check a gold questions file against its policies.')
    ap.add_argument('questions', nargs='?', default=DEFAULT)
    ap.add_argument('--policies', default=POL)
    ap.add_argument('--id-prefix', default='x[a-z]')
    ap.add_argument('--yesno-only', action='store_true')
    ap.add_argument('--every-policy', action='store_true')
    args = ap.parse_args(argv)
    texts = load_policies(os.path.abspath(args.policies))
    qpath = args.questions
    fails, ids = [], set()
    rows = []
    with open(qpath, encoding='utf-8') as fh:
        for ln, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                fails.append(f'line {ln}: invalid JSON ({e})')
    c_lang, c_type, c_verdict, c_ans = (collections.Counter() for _ in range(4))
    per_company = collections.defaultdict(collections.Counter)
    n_ev = 0
    for r in rows:
        rid = r.get('id', '?') if isinstance(r, dict) else '?'

        def bad(msg):
            fails.append(f'{rid}: {msg}')

        if not isinstance(r, dict):
            bad('line is not a JSON object')
            continue
        missing = KEYS - set(r)
        extra = set(r) - KEYS - OPTIONAL
        if missing:
            bad(f'missing keys {sorted(missing)}')
            continue
        if extra:
            bad(f'unexpected keys {sorted(extra)}')
        if 'kind' in r and (r['kind'] not in ('off_topic', 'not_privacy') or r.get('answerable') is not False):
            bad('kind is off_topic or not_privacy, on unanswerable questions only')
        if rid in ids:
            bad('duplicate id')
        ids.add(rid)
        co, lang, typ, ans = r['company'], r['lang'], r['type'], r['answerable']
        if co not in texts:
            bad(f'no policy file for company {co!r}')
            continue
        text = texts[co]
        if lang not in LANGS:
            bad(f'bad lang {lang!r}')
        if not (isinstance(rid, str) and re.fullmatch(rf'(?:{args.id_prefix})-{re.escape(co)}-[1-9]\d*-{re.escape(str(lang))}', rid)):
            bad(f'id does not follow {args.id_prefix}-<company>-<n>-<lang>')
        if not isinstance(r['question'], str) or len(r['question'].strip()) < 5:
            bad('question missing or too short')
        if not isinstance(ans, bool):
            bad(f'answerable must be true or false, got {ans!r}')
        if typ not in TYPES:
            bad(f'bad type {typ!r}')
        if args.yesno_only and typ != 'yesno':
            bad(f'type must be yesno, not {typ!r}')
        v = r.get('verdict')
        if typ == 'yesno':
            if v not in VERDICTS:
                bad(f'bad or missing verdict {v!r}')
            elif ans is False and v != 'not_stated':
                bad('unanswerable yes/no question must have verdict not_stated')
            elif ans is True and v == 'not_stated':
                bad('answerable yes/no question with verdict not_stated')
        elif 'verdict' in r:
            bad('open question carries a verdict')
        ev, amc = r['evidence'], r['answer_must_contain']
        if not (isinstance(ev, list) and all(isinstance(e, str) for e in ev)):
            bad('evidence must be a list of strings')
            ev = []
        if not (isinstance(amc, list) and all(isinstance(g, list) and g and all(isinstance(x, str) and x for x in g) for g in amc)):
            bad('answer_must_contain must be a list of non-empty lists of non-empty strings')
            amc = []
        if args.yesno_only and amc != []:
            bad('answer_must_contain must be []')
        if ans:
            if not 1 <= len(ev) <= 3:
                bad(f'{len(ev)} evidence strings (want 1-3)')
        else:
            if ev:
                bad('unanswerable question with evidence')
            if amc:
                bad('unanswerable question with answer_must_contain')
        sentences = {}
        for e in ev:
            n_ev += 1
            if not 10 <= len(e) <= 80:
                bad(f'evidence length {len(e)} outside 10-80: {e!r}')
            pos = text.find(norm(e))
            if pos < 0:
                bad(f'evidence not found in policy: {e!r}')
            else:
                sentences[e] = sentence_index(text, pos)
        for i, a in enumerate(ev):
            for b in ev[i + 1:]:
                if norm(a) in norm(b) or norm(b) in norm(a):
                    bad(f'overlapping evidence strings: {a!r} / {b!r}')
                elif a in sentences and b in sentences and sentences[a] == sentences[b]:
                    bad(f'evidence strings from the same sentence: {a!r} / {b!r}')
        for g in amc:
            if not any(norm(x) in text for x in g):
                bad(f'no alternative of answer_must_contain group {g!r} occurs in the policy')
        c_lang[lang] += 1
        c_type[typ] += 1
        c_ans['answerable' if ans else 'unanswerable'] += 1
        if typ == 'yesno':
            c_verdict[v] += 1
        pc = per_company[co]
        pc['n'] += 1
        pc['yesno'] += typ == 'yesno'
        pc['unans'] += 0 if ans else 1
        pc[f'lang_{lang}'] += 1
    print(f'file: {qpath}')
    print(f'questions: {len(rows)}  policies: {len(per_company)}/{len(texts)}  evidence strings: {n_ev}')
    print('by language:', dict(sorted(c_lang.items())))
    print('by type:', dict(sorted(c_type.items())))
    print('yes/no verdicts:', dict(sorted(c_verdict.items())))
    print('answerable:', dict(sorted(c_ans.items())))
    print('per company (questions / yes-no / unanswerable / nl fr en de):')
    for co in sorted(per_company):
        pc = per_company[co]
        langs = ' '.join(f'{pc["lang_" + l]:2d}' for l in ('nl', 'fr', 'en', 'de'))
        print(f'  {co:22s} {pc["n"]:3d} {pc["yesno"]:3d} {pc["unans"]:3d}   {langs}')
    unused = sorted(set(texts) - set(per_company))
    if args.every_policy and unused:
        fails.append(f'policies without questions: {unused}')
    if fails:
        print(f'\nFAILURES: {len(fails)}')
        for f in fails:
            print('  ' + f)
        sys.exit(1)
    print('\nOK: all checks passed; every evidence string found in its policy')


if __name__ == '__main__':
    main()
