"""Cleaning keeps a map to the original; chunks are exact spans, token-bounded, section-aware."""
from pathlib import Path

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from index.file_worker import detect_policy_language
from index.chunk import chunk_policy
from index.clean import clean_policy
from index.tokens import count_tokens

POLICIES = sorted((Path(__file__).resolve().parent.parent / "policies").glob("*.txt"))


def _check_map(original: str, cleaned) -> None:
    assert len(cleaned.offsets) == len(cleaned.text)
    assert all(a < b for a, b in zip(cleaned.offsets, cleaned.offsets[1:])), "offsets must increase"
    for ch, off in zip(cleaned.text, cleaned.offsets):
        assert ch == original[off] or (ch in " \n" and original[off].isspace()), (ch, off)


@pytest.fixture(scope="module", params=POLICIES, ids=lambda p: p.stem)
def policy(request):
    original = request.param.read_text(encoding="utf-8")
    language = detect_policy_language(clean_policy(original).text)
    return request.param.stem, original, language, chunk_policy(request.param.stem, original, language)


def test_every_chunk_is_an_exact_span(policy):
    _, original, _, chunks = policy
    assert chunks
    for c in chunks:
        assert original[c.start:c.end] == c.text
        for s, e in c.sentences + c.units:
            assert c.start <= s < e <= c.end and original[s:e].strip()


def test_token_bound_respected(policy):
    _, _, _, chunks = policy
    assert max(count_tokens(c.clean) for c in chunks) <= 180


def test_clean_map_on_samples():
    for path in POLICIES:
        original = path.read_text(encoding="utf-8")
        _check_map(original, clean_policy(original))


def test_languages_detected():
    found = {p.stem: detect_policy_language(clean_policy(p.read_text(encoding="utf-8")).text) for p in POLICIES}
    assert found == {"engcode": "nl", "intersentia": "nl", "selligent": "nl", "sensus": "nl", "zensor": "en"}


def test_scrape_junk_removed():
    zensor = (Path(__file__).resolve().parent.parent / "policies" / "zensor.txt").read_text(encoding="utf-8")
    cleaned = clean_policy(zensor).text
    assert "our approach" not in cleaned and "englishnederlandsfrançais" not in cleaned
    assert cleaned.startswith("privacy policy")
    intersentia = (Path(__file__).resolve().parent.parent / "policies" / "intersentia.txt").read_text(encoding="utf-8")
    cleaned = clean_policy(intersentia).text
    assert "](#)" not in cleaned and "[" not in cleaned
    sensus = (Path(__file__).resolve().parent.parent / "policies" / "sensus.txt").read_text(encoding="utf-8")
    assert "•" not in clean_policy(sensus).text


def test_headings_found_in_samples():
    def titles(name):
        original = (Path(__file__).resolve().parent.parent / "policies" / f"{name}.txt").read_text(encoding="utf-8")
        return {h.title for h in clean_policy(original).headings}

    assert {"Bewaartermijn", "Cookies", "Uw rechten", "Welke persoonsgegevens verwerken wij van u?"} <= titles("sensus")
    assert {"3.b Doel", "3.c. Levensduur", "Veelgestelde vragen", "Wat is de GDPR?"} <= titles("intersentia")
    assert {"cookies", "changes to this policy", "your rights and responsibilities"} <= titles("zensor")
    # A list item or a "label: value" line is content, not a heading.
    assert "Uw naam" not in titles("sensus") and not any(t.startswith("Email:") for t in titles("engcode"))


def test_zensor_one_huge_line_becomes_sensible_chunks():
    original = (Path(__file__).resolve().parent.parent / "policies" / "zensor.txt").read_text(encoding="utf-8")
    chunks = chunk_policy("zensor", original, "en")
    assert len(chunks) >= 10
    assert sum(1 for c in chunks if c.section) >= len(chunks) - 2
    for c in chunks:  # cut at sentence ends, not mid-word
        assert c.clean.rstrip()[-1] in ".:;!?)”\"" or c.clean.rstrip()[-1].isalnum()


def test_sections_kept_in_metadata():
    original = (Path(__file__).resolve().parent.parent / "policies" / "sensus.txt").read_text(encoding="utf-8")
    chunks = chunk_policy("sensus", original, "nl")
    retention = [c for c in chunks if "vijf jaar bewaard" in c.text]
    assert retention and retention[0].section == "Bewaartermijn"


junk_line = st.sampled_from(["home", "about us", "blog", "contact", "[Inhoud](#)", " • ", "\xa0", "   "])
text_line = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=80)


@hsettings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(junk_line, text_line, st.just("[link text](#) and more words.")), max_size=40))
def test_clean_map_property(lines):
    original = "\n".join(lines)
    _check_map(original, clean_policy(original))


@hsettings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.just("Bewaartermijn"), st.just(" • korte regel"),
                          st.text(alphabet="abcde fghij.,?\n", min_size=1, max_size=400)), max_size=30))
def test_chunks_are_exact_spans_property(lines):
    original = "\n".join(lines)
    for c in chunk_policy("x", original, "nl", max_tokens=40):
        assert original[c.start:c.end] == c.text and count_tokens(c.clean) <= 40


def test_markdown_headings_of_any_length_and_contact_lines():
    original = (
        "#### 6. Outre le chercheur et son personnel, quelles autres personnes ont-elles accès à mes données à caractère personnel ?\n\n"
        "Afin de vérifier la qualité de l'étude, vos données peuvent être consultées par des inspecteurs.\n\n"
        "Sollten Sie Fragen zum Datenschutz haben, finden Sie nachfolgend die Kontaktdaten der verantwortlichen Stelle:\n"
        "Berliner Institut für Gesundheitsforschung\nAnna-Louisa-Karsch-Str. 2\n10178 Berlin\n"
        "E-Mail: info@example.de\nTelefonnr.: +49 30 13889-0\n\n"
        "Man kann 4 Arten von Cookies unterscheiden:\nUnerlässliche Cookies\n"
        "Diese Cookies sind nötig, um grundlegende Funktionen der Website sicherzustellen, zum Beispiel den Warenkorb.\n"
    )
    titles = [h.title for h in clean_policy(original).headings]
    assert titles[0].startswith("#### 6. Outre le chercheur")  # 120 characters: still a Markdown heading
    assert "Unerlässliche Cookies" in titles  # a title over running text, even after a colon line
    for content in ("Berliner Institut für Gesundheitsforschung", "Anna-Louisa-Karsch-Str. 2", "10178 Berlin",
                    "Telefonnr.: +49 30 13889-0"):
        assert content not in titles
    units = [original[s:e] for c in chunk_policy("x", original, "de") for s, e in c.units]
    # the introduction and the address it introduces are cited together
    assert any(u.startswith("Sollten Sie Fragen") and u.endswith("Telefonnr.: +49 30 13889-0") for u in units)


def test_inline_html_tags_are_not_text():
    original = ("Les données relatives à l’étude seront traitées conformément au Règlement général <sup>[1]</sup>.\n\n"
                "<small>[1] Le Règlement général sur la protection des données.</small>\n")
    cleaned = clean_policy(original)
    assert "<small>" not in cleaned.text and "</small>" not in cleaned.text and "<sup>" not in cleaned.text
    _check_map(original, cleaned)
    units = [original[s:e] for c in chunk_policy("x", original, "fr") for s, e in c.units]
    assert "[1] Le Règlement général sur la protection des données." in units


def test_introduced_block_is_not_cut_from_its_introduction():
    lines = ["Dit is een gewone zin over de verwerking van persoonsgegevens door de organisatie." for _ in range(6)]
    original = "\n".join(lines + ["Neem contact op met onze functionaris voor gegevensbescherming:",
                                  "Stichting Voorbeeld", "Postbus 12", "1000 AA Amsterdam", "privacy@voorbeeld.nl"])
    chunks = chunk_policy("x", original, "nl", max_tokens=110)
    block = [c for c in chunks if "Postbus 12" in c.text]
    assert len(block) == 1 and "functionaris voor gegevensbescherming:" in block[0].text
    for c in chunks:
        assert original[c.start:c.end] == c.text and count_tokens(c.clean) <= 110
