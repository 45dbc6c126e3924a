"""A folder of hostile policy files (tests/test_hostile_files.py, bench/bench_hostile.py): each is
something a real folder or upload can hold, and each must be skipped with one line or indexed,
never hang or crash `index build`."""
from __future__ import annotations

import io
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SENTENCE = ("Wij bewaren uw persoonsgegevens niet langer dan nodig is voor het doel waarvoor wij ze "
            "verzameld hebben, en in elk geval niet langer dan vijf jaar na het einde van de overeenkomst. ")


def minimal_pdf(text: str) -> bytes:
    """A one-page PDF with `text` (pypdf writes it; the text is drawn with a standard font)."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    page = writer.add_blank_page(612, 792)
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject(
        {NameObject("/F1"): writer._add_object(font)})})
    safe = text.replace("\\", "").replace("(", "").replace(")", "")
    stream = DecodedStreamObject()
    stream.set_data(f"BT /F1 10 Tf 40 750 Td ({safe}) Tj ET".encode("latin-1", "replace"))
    page[NameObject("/Contents")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def two_mb_line(chars: int = 2_000_000) -> str:
    """A real policy glued into one line, as a PDF extraction can give it."""
    base = " ".join((ROOT / "policies" / "sensus.txt").read_text(encoding="utf-8").split())
    return (base + " ") * (chars // (len(base) + 1)) + base[: chars % (len(base) + 1)]


def hostile_files(rng: random.Random | None = None, long_line_chars: int = 2_000_000) -> dict[str, bytes]:
    """File name -> content. Names are odd on purpose (spaces, unicode, a leading dash, 200 chars)."""
    rng = rng or random.Random(15)
    pdf = minimal_pdf(SENTENCE * 3)
    nested = "<html><body>" + "<div>" * 50_000 + "<p>" + SENTENCE + "</p>" + "</div>" * 50_000 + "</body></html>"
    scripts = "<html><head>" + "<script>var a = '" + "x" * 500 + "';</script>" * 5000 + "</head><body><p>" + \
        SENTENCE + "</p></body></html>"
    return {
        "random-bytes.txt": rng.randbytes(200_000),
        "random-bytes.pdf": rng.randbytes(50_000),
        "random-bytes.html": rng.randbytes(50_000),
        "truncated.pdf": pdf[: len(pdf) // 2],
        "garbled.pdf": bytes(b ^ 0x5A if rng.random() < 0.02 else b for b in pdf),
        "header-only.pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
        "deeply-nested.html": nested.encode(),
        "script-heavy.html": scripts.encode(),
        "nul-bytes.txt": (SENTENCE * 5).encode().replace(b" ", b"\x00"),
        "utf16-bom.txt": (SENTENCE * 3).encode("utf-16"),
        "utf16le-no-bom.txt": (SENTENCE * 3).encode("utf-16-le"),
        "latin1.txt": ("Politique de confidentialité. Nous conservons vos données à caractère personnel "
                       "pendant la durée nécessaire. " * 3).encode("latin-1"),
        "utf8-bom.md": b"\xef\xbb\xbf# Privacy\n\n" + (SENTENCE * 3).encode(),
        "one-2mb-line.txt": two_mb_line(long_line_chars).encode(),
        "empty.txt": b"",
        "whitespace-only.md": b" \n\t\n   \r\n" * 100,
        "only-digits.txt": b"0123456789 " * 1000,
        "has space and caps.txt": (SENTENCE * 3).encode(),
        "-leading-dash.txt": (SENTENCE * 3).encode(),
        "sociét\u00e9-unicode.txt": (SENTENCE * 3).encode(),
        ("x" * 200) + ".txt": (SENTENCE * 3).encode(),
        "wrong-type.docx": b"PK\x03\x04" + rng.randbytes(1000),
        "no-extension": (SENTENCE * 3).encode(),
        "zip-named.pdf": b"PK\x03\x04" + rng.randbytes(5000),
        "html-named.txt": ("<html><body>" + "<p>" + SENTENCE + "</p>" * 3 + "</body></html>").encode(),
        "control-chars.txt": ("\x01\x02\x03\x1b[31m" * 1000 + SENTENCE).encode(),
    }
