"""Rights-request letters (`rag letter`, rag/letter.py) over the sample policies: the right GDPR
article, the right language and register, the one-month deadline, and a contact that is either an
exact cited span of the policy or, when the policy names none, a placeholder that says so."""
from __future__ import annotations

import json
import re

import pytest

from conftest import POLICIES, ROOT
from test_cli import run

COMPANIES = ("engcode", "intersentia", "selligent", "sensus", "zensor")
LANGUAGES = ("en", "nl", "fr", "de")
ARTICLE_WORD = {"en": "Article", "nl": "artikel", "fr": "article", "de": "Artikel"}
DEADLINE = {"en": ("Article 12(3)", "one month"), "nl": ("artikel 12, lid 3", "een maand"),
            "fr": ("article 12, paragraphe 3", "un mois"), "de": ("Artikel 12 Absatz 3", "eines Monats")}
FORMAL = {"en": r"\byou\b", "nl": r"\bu\b", "fr": r"\bvous\b", "de": r"\bSie\b"}
INFORMAL = {"nl": r"\b(jij|je|jou|jouw)\b", "fr": r"\b(tu|toi|ton|ta|tes)\b", "de": r"\b(du|dich|dir|dein|deine)\b"}


def policy_text(company: str) -> str:
    return (POLICIES / f"{company}.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def letters(sample_store) -> dict:
    from rag.letter import RIGHTS, write_letter

    return {(c, r, lang): write_letter(c, r, lang, "Jan Peeters", settings=sample_store)
            for c in COMPANIES for r in RIGHTS for lang in LANGUAGES}


def test_every_letter_cites_its_article_in_its_language(letters):
    from index.language import identify
    from rag.letter import ARTICLES

    for (company, right, lang), result in letters.items():
        text = result["letter"]
        assert (result["company"], result["right"], result["language"]) == (company, right, lang)
        word = ARTICLE_WORD[lang]
        assert re.search(rf"\b{word} {ARTICLES[right]}\b", text), (company, right, lang)
        others = {n for r, n in ARTICLES.items() if r != right}
        cited = {int(n) for n in re.findall(rf"\b{word} (\d+)\b", text, re.IGNORECASE)}
        assert not cited & others, (company, right, lang, cited)  # not another right's article
        assert all(part in text for part in DEADLINE[lang]), (company, right, lang)
        assert re.search(FORMAL[lang], text)
        if lang in INFORMAL:
            assert not re.search(INFORMAL[lang], text, re.IGNORECASE), (company, right, lang)
        body = re.sub(r"\[[^\]]*\]", " ", text)  # the language of our words, not of quoted names
        assert identify(body)[0] == lang, (company, right, lang)
        assert "Jan Peeters" in text


def test_contact_is_an_exact_cited_span_or_a_placeholder(letters):
    from rag.letter import find_address, find_email
    from rag.lexicon import localized

    for (company, right, lang), result in letters.items():
        source = policy_text(company)
        for c in result["citations"]:
            assert source[c["start"]:c["end"]] == c["text"] and c["source"] == f"policies/{company}.txt"
        to = result["to"]
        for field in ("name", "email", "address"):
            if to[field]:
                assert any(to[field] in c["text"] for c in result["citations"]), (company, field)
                assert to[field] in result["letter"]
        words = localized("letters", lang)
        if not (to["email"] or to["address"]):
            assert words["placeholder_address"] in result["letter"]
            assert words["no_contact"].split("{company}")[0] in result["letter"]
            assert not result["citations"]
        else:
            assert words["no_contact"].split("{company}")[0] not in result["letter"]
        # never invented: a policy that holds no e-mail address and no postal address gets the placeholder,
        # and one that holds an e-mail address gets one of its own
        has_email, has_address = bool(find_email(source)), bool(find_address(source))
        if not (has_email or has_address):
            assert not (to["email"] or to["address"]), company
        if has_email:
            assert to["email"], company


def test_contacts_are_the_same_for_every_right_and_language(letters):
    for company in COMPANIES:
        found = {json.dumps(r["to"], sort_keys=True) for (c, _, _), r in letters.items() if c == company}
        assert len(found) == 1, company


def test_letter_cli_json_and_files(sample_store, tmp_path):
    store = sample_store.store_dir
    out = json.loads(run("rag", "letter", "--company", "selligent", "--right", "portability", "--lang", "fr",
                         "--json", store=store).stdout)
    assert set(out) >= {"company", "right", "language", "letter", "to", "citations"}
    assert set(out["to"]) == {"name", "email", "address"}
    assert "article 20" in out["letter"] and out["language"] == "fr"
    md, txt = tmp_path / "letter.md", tmp_path / "letter.txt"
    run("rag", "letter", "--company", "selligent", "--right", "erasure", "--lang", "de", "--name", "Eva Muster",
        "--out", str(md), store=store)
    run("rag", "letter", "--company", "selligent", "--right", "erasure", "--lang", "de", "--out", str(txt), store=store)
    assert "Artikel 17" in md.read_text() and "> " in md.read_text() and "Eva Muster" in md.read_text()
    assert "Artikel 17" in txt.read_text() and "[Ihr Name]" in txt.read_text()
    plain = run("rag", "letter", "--company", "sensus", "--right", "access", "--lang", "nl", store=store).stdout
    assert "artikel 15" in plain and "[adres van de verwerkingsverantwoordelijke]" in plain


@pytest.mark.parametrize("args,message", [
    (("--company", "nope", "--right", "access"), "unknown company"),
    (("--company", "sensus", "--right", "forget"), "unknown right"),
    (("--company", "sensus", "--right", "access", "--lang", "es"), "unknown language"),
    (("--company", "../x", "--right", "access"), "invalid company id"),
])
def test_letter_errors_are_one_line(sample_store, args, message):
    for extra in ((), ("--json",)):
        result = run("rag", "letter", *args, *extra, store=sample_store.store_dir, ok=False)
        lines = result.stderr.strip().splitlines()
        assert result.returncode != 0 and len(lines) == 1 and message in lines[0], result.stderr
        assert "Traceback" not in result.stderr
        if extra:
            assert message in json.loads(result.stdout)["error"]


def test_address_and_name_patterns():
    from rag.letter import find_address, find_name

    assert find_address("Ons adres is: Groenstraat 31, 2640 Mortsel, België.") == "Groenstraat 31, 2640 Mortsel, België"
    assert find_address("zetel te 2640 Mortsel, Groenstraat 31.") == "2640 Mortsel, Groenstraat 31"
    assert find_address("Selligent nv\nAvenue de Finlande 2\n1420 Braine-l’Alleud – België") == \
        "Avenue de Finlande 2\n1420 Braine-l’Alleud – België"
    assert find_address("Wir speichern Daten 10 Jahre, 2 Monate lang.") is None
    assert find_name("Vragen moeten worden gericht aan Engcode bv op info@engcode.be") == "Engcode bv"
    assert find_name("we keep your data for a while") is None
    assert (ROOT / "rag" / "data" / "letters.json").is_file()
