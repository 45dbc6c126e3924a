"""Loaders: txt, md, html (main text by trafilatura), pdf (pypdf); bad files are skipped with one line."""
from pathlib import Path

import pytest

from conftest import make_settings
from index.folder import read_folder
from index.load import UnreadablePolicy, company_id, load_policy, read_policy_bytes

POLICY_SENTENCE = "Wij bewaren uw persoonsgegevens maximaal vijf jaar na het einde van de overeenkomst. "


def _minimal_pdf(text: str) -> bytes:
    """A valid one-page PDF with a text object, written by hand (no PDF writer dependency)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_txt_is_the_source_text_itself():
    p = load_policy(Path(__file__).resolve().parent.parent / "policies" / "sensus.txt")
    assert p.company == "sensus" and p.kind == "txt"
    assert p.text == (Path(__file__).resolve().parent.parent / "policies" / "sensus.txt").read_text(encoding="utf-8")


def test_html_main_text_without_navigation_or_scripts():
    html = (
        "<html><head><title>x</title><script>var tracking = 1;</script></head><body>"
        "<nav><a href='/'>Home</a> <a href='/about'>About us</a></nav>"
        "<main><h1>Privacybeleid</h1>"
        f"<p>{POLICY_SENTENCE * 3}</p><p>U kunt uw gegevens laten verwijderen via privacy@voorbeeld.be.</p></main>"
        "<footer>© 2024 Voorbeeld</footer></body></html>"
    )
    p = read_policy_bytes(html.encode(), "voorbeeld.html")
    assert p.kind == "html"
    assert "maximaal vijf jaar" in p.text and "privacy@voorbeeld.be" in p.text
    assert "var tracking" not in p.text and "<p>" not in p.text


def test_pdf_text_is_extracted():
    p = read_policy_bytes(_minimal_pdf(POLICY_SENTENCE.strip()), "acme.pdf")
    assert p.kind == "pdf" and "maximaal vijf jaar" in p.text


@pytest.mark.parametrize("name,data,reason", [
    ("garbage.pdf", b"%PDF-1.4\n\x00\x01garbage that is not a pdf\xff\xfe" * 20, "PDF"),
    ("empty.txt", b"", "no usable text"),
    ("blank.md", b"   \n\n\t  \n", "no usable text"),
    ("binary.txt", bytes(range(256)) * 4, ""),
    ("policy.docx", b"PK\x03\x04 whatever", "unsupported"),
])
def test_bad_files_raise_one_clear_line(name, data, reason):
    with pytest.raises(UnreadablePolicy) as err:
        read_policy_bytes(data, name)
    message = str(err.value)
    assert name in message and "\n" not in message and reason in message


@pytest.mark.parametrize("name", ["..txt", "x y?.txt", "a/b\\..txt", "%2e%2e.txt"])
def test_company_ids_must_be_plain_names(name):
    with pytest.raises(UnreadablePolicy):
        company_id(Path(name))


def test_upload_name_with_path_characters_stays_inside_the_folder():
    # Only the stem becomes the company id: "../x.txt" is company "x", stored as policies/x.txt.
    p = read_policy_bytes(POLICY_SENTENCE.encode() * 3, "../../x.txt")
    assert p.company == "x"


def test_folder_with_bad_files_keeps_the_good_ones(tmp_path):
    (tmp_path / "good.txt").write_text(POLICY_SENTENCE * 5, encoding="utf-8")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.7 not really")
    (tmp_path / "notes.docx").write_bytes(b"PK")
    (tmp_path / "policies.json").write_text("{}")
    warnings = []
    parsed, skipped = read_folder(tmp_path, make_settings(tmp_path / "store", tmp_path), warnings.append)
    assert [p.policy.company for p in parsed] == ["good"]
    assert len(skipped) == 3 and len(warnings) == 3
    assert all(line.count("\n") == 0 for line in warnings)
