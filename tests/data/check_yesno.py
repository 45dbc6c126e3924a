#!/usr/bin/env python3
"""Check newpolicies_yesno.jsonl against the policies of shared/eval/newpolicies-dev.

Every evidence string must occur in its policy's text: for .html files the visible
text (tags, script and style removed, entities unescaped); for other files the raw
text. Matching is whitespace-normalised and case-insensitive (same logic as
shared/eval/train-multilingual/check.py). Also checks keys, id pattern, unique ids,
verdict values, answerable == (verdict != 'not_stated') and evidence lengths, and
prints counts per language and verdict. Exits non-zero on any failure.

usage: python3 check_yesno.py [questions.jsonl]
"""
import collections
import html
import json
import os
import re
import sys
from html.parser import HTMLParser

HERE = os.path.dirname(os.path.abspath(__file__))
POL = os.path.normpath(os.path.join(HERE, '..', '..', '..', 'shared', 'eval', 'newpolicies-dev', 'policies'))
DEFAULT = os.path.join(HERE, 'newpolicies_yesno.jsonl')
LANGS = {'nl', 'fr', 'en', 'de'}
VERDICTS = {'yes', 'no', 'conditional', 'not_stated'}
KEYS = ['id', 'company', 'lang', 'question', 'answerable', 'type', 'verdict', 'evidence', 'answer_must_contain']


class _Text(HTMLParser):
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


def norm(s):
    return re.sub(r'\s+', ' ', s).strip().lower()


def policy_text(path):
    raw = open(path, encoding='utf-8').read()
    if path.endswith(('.html', '.htm')):
        p = _Text()
        p.feed(raw)
        p.close()
        raw = html.unescape(''.join(p.out))
    return norm(raw)


def main():
    qpath = sys.argv[1] if len(sys.argv) > 1 else DEFAULT
    if not os.path.isdir(POL):
        print(f'policies folder not found: {POL}')
        sys.exit(2)
    texts = {os.path.splitext(f)[0]: policy_text(os.path.join(POL, f)) for f in sorted(os.listdir(POL))}
    fails, ids = [], set()
    c_lang, c_verdict, c_co = collections.Counter(), collections.Counter(), collections.Counter()
    c_lang_verdict = collections.Counter()
    own = 0
    policy_lang = {}
    rows = []
    for i, line in enumerate(open(qpath, encoding='utf-8'), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as e:
            fails.append(f'line {i}: invalid JSON ({e})')
    for r in rows:
        rid = r.get('id', '?') if isinstance(r, dict) else '?'

        def bad(msg):
            fails.append(f'{rid}: {msg}')

        if not isinstance(r, dict):
            bad('line is not a JSON object')
            continue
        missing = [k for k in KEYS if k not in r]
        extra = [k for k in r if k not in KEYS]
        if missing:
            bad(f'missing keys {missing}')
            continue
        if extra:
            bad(f'unexpected keys {extra}')
        if rid in ids:
            bad('duplicate id')
        ids.add(rid)
        co, lang, v = r['company'], r['lang'], r['verdict']
        if co not in texts:
            bad(f'no policy file for company {co!r}')
            continue
        if lang not in LANGS:
            bad(f'bad lang {lang!r}')
        if not re.fullmatch(rf'yn-{re.escape(co)}-\d+-{re.escape(str(lang))}', str(rid)):
            bad('id does not follow yn-<company>-<n>-<lang>')
        if r['type'] != 'yesno':
            bad(f'type must be yesno, not {r["type"]!r}')
        if not isinstance(r['question'], str) or not r['question'].strip():
            bad('empty question')
        if v not in VERDICTS:
            bad(f'bad verdict {v!r}')
        if not isinstance(r['answerable'], bool):
            bad('answerable must be true or false')
        elif r['answerable'] != (v != 'not_stated'):
            bad(f'answerable={r["answerable"]} does not match verdict {v!r}')
        if r['answer_must_contain'] != []:
            bad('answer_must_contain must be []')
        ev = r['evidence']
        if not isinstance(ev, list) or not all(isinstance(e, str) for e in ev):
            bad('evidence must be a list of strings')
            continue
        if v == 'not_stated':
            if ev:
                bad('not_stated question with evidence')
        elif not 1 <= len(ev) <= 3:
            bad(f'{len(ev)} evidence strings (want 1-3)')
        for e in ev:
            if not 10 <= len(e) <= 80:
                bad(f'evidence length {len(e)} outside 10-80: {e!r}')
            if norm(e) not in texts[co]:
                bad(f'evidence not found in policy: {e!r}')
        for i, a in enumerate(ev):
            for b in ev[i + 1:]:
                if norm(a) in norm(b) or norm(b) in norm(a):
                    bad(f'overlapping evidence strings: {a!r} / {b!r}')
        c_lang[lang] += 1
        c_verdict[v] += 1
        c_co[co] += 1
        c_lang_verdict[(lang, v)] += 1
    print(f'questions: {len(rows)}  policies covered: {len(c_co)}/{len(texts)}')
    print('by language:', dict(sorted(c_lang.items())))
    print('by verdict:', dict(sorted(c_verdict.items())))
    print('per company:', dict(sorted(c_co.items())))
    print('language x verdict:')
    for lang in sorted(c_lang):
        print(f'  {lang}: ' + ', '.join(f'{v} {c_lang_verdict[(lang, v)]}' for v in sorted(VERDICTS)))
    unused = sorted(set(texts) - set(c_co))
    if unused:
        fails.append(f'policies without questions: {unused}')
    if fails:
        print(f'\nFAILURES: {len(fails)}')
        for f in fails:
            print('  ' + f)
        sys.exit(1)
    print('\nOK: all lines valid, every evidence string found in its policy')


if __name__ == '__main__':
    main()
