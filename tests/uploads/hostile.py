"""A corpus of hostile files, made by the tests themselves: each is small, even the image that
claims 50,000 × 50,000 pixels."""

import io
import struct
import zipfile
import zlib

from PIL import Image
from pypdf import PdfWriter

from tests.files import PAGE_OBJECTS, PDF_BYTES, jpeg_bytes, pdf_bytes, png_bytes

HTML_PAGE = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>\n"
SVG_IMAGE = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" onload="alert(1)">'
    b"<script>alert(document.domain)</script></svg>\n"
)
# What the fake clamd reports as a virus. Not the real EICAR string, which would set off the
# scanners of whoever checks this repository out.
VIRUS_MARKER = b"COHORTLY-TEST-VIRUS-NOT-A-REAL-ONE"


def noisy_png(size: tuple[int, int] = (64, 64)) -> bytes:
    """A PNG of noise: it does not compress, so its end lies beyond what browsers sniff."""
    buffer = io.BytesIO()
    Image.effect_noise(size, 60).save(buffer, "PNG")
    return buffer.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims width × height pixels, with a few bytes of pixel data: a
    decompression bomb's shape without its weight."""
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + _png_chunk(b"IEND", b"")
    )


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small JPEG whose frame header (SOF0) is rewritten to claim width × height pixels."""
    data = bytearray(jpeg_bytes())
    frame = data.index(b"\xff\xc0")
    # FF C0, length (2), precision (1), height (2), width (2)
    data[frame + 5 : frame + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def encrypted_pdf(user_password: str = "secret", algorithm: str = "AES-256") -> bytes:
    """An encrypted PDF. With an empty user password it opens in any reader without asking,
    but is still encrypted."""
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt(user_password, "owner-password", algorithm=algorithm)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def pdf_that_is_also_html() -> bytes:
    """A polyglot: a real PDF that pypdf reads, whose first bytes are also a web page."""
    return PDF_BYTES.replace(b"%PDF-1.4\n", b"%PDF-1.4\n" + HTML_PAGE, 1)


def zip_archive() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("payload.html", HTML_PAGE)
    return buffer.getvalue()


def pdf_with_padding(size: int) -> bytes:
    """A valid one-page PDF of about `size` bytes (an unused stream makes up the weight)."""
    filler = b"0" * max(0, size - len(PDF_BYTES) - 60)
    return pdf_bytes(
        *PAGE_OBJECTS,
        b"<</Length %d>>stream\n%s\nendstream" % (len(filler), filler),
    )


def pdf_with_virus_marker() -> bytes:
    return pdf_bytes(
        *PAGE_OBJECTS,
        b"(" + VIRUS_MARKER + b")",
    )


# (file name, content, expected error code, words of the message the student sees)
REFUSED = {
    "html named .pdf": (
        "certificate.pdf",
        HTML_PAGE,
        "wrong_type",
        "This file is not a PDF, JPEG image or PNG image (what is inside the file counts",
    ),
    "svg named .pdf": ("id.pdf", SVG_IMAGE, "wrong_type", "This file is not a PDF"),
    "svg named .png": ("photo.png", SVG_IMAGE, "wrong_type", "This file is not a PDF"),
    "zip named .pdf": ("id.pdf", zip_archive(), "wrong_type", "This file is not a PDF"),
    "pdf that is also a web page": (
        "id.pdf",
        pdf_that_is_also_html(),
        "markup",
        "This file contains web page code (HTML or script) as well as a PDF",
    ),
    "pdf with a web page after its end": (
        "id.pdf",
        pdf_with_padding(4000) + HTML_PAGE,
        "trailing_data",
        "This PDF has other data attached after the end of the document",
    ),
    "pdf with a zip after its end": (
        "id.pdf",
        pdf_with_padding(4000) + zip_archive(),
        "trailing_data",
        "This PDF has other data attached after the end of the document",
    ),
    "png with a zip after its end": (
        "id.png",
        noisy_png() + zip_archive(),
        "trailing_data",
        "This image has other data attached after its end",
    ),
    "png with a web page after its end": (
        "id.png",
        noisy_png() + HTML_PAGE,
        "trailing_data",
        "This image has other data attached after its end",
    ),
    "zero-byte file": ("id.pdf", b"", "empty", "The file is empty."),
    "encrypted pdf": (
        "statement.pdf",
        encrypted_pdf(),
        "pdf_encrypted",
        "This PDF is protected with a password or encryption",
    ),
    "pdf encrypted the old way (RC4)": (
        "statement.pdf",
        encrypted_pdf(algorithm="RC4-128"),
        "pdf_encrypted",
        "This PDF is protected with a password or encryption",
    ),
    "encrypted pdf that opens without a password": (
        "statement.pdf",
        encrypted_pdf(user_password=""),
        "pdf_encrypted",
        "This PDF is protected with a password or encryption",
    ),
    "truncated pdf": ("id.pdf", PDF_BYTES[:90], "pdf_broken", "This PDF is damaged"),
    "pdf header on garbage": (
        "id.pdf",
        b"%PDF-1.7\n" + bytes(range(256)) * 8,
        "pdf_broken",
        "This PDF is damaged and cannot be opened.",
    ),
    "pdf without pages": (
        "id.pdf",
        pdf_bytes(b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[]/Count 0>>"),
        "pdf_empty",
        "This PDF has no pages.",
    ),
    "png of 50,000 × 50,000 pixels": (
        "scan.png",
        png_claiming(50_000, 50_000),
        "too_many_pixels",
        "This image has more than the 40 million pixels allowed.",
    ),
    "jpeg of 50,000 × 50,000 pixels": (
        "scan.jpg",
        jpeg_claiming(50_000, 50_000),
        "too_many_pixels",
        "This image has more than the 40 million pixels allowed.",
    ),
    "png of 7,000 × 7,000 pixels": (
        "scan.png",
        png_claiming(7_000, 7_000),
        "too_many_pixels",
        "This image (7,000 × 7,000 pixels) has more than the 40 million pixels allowed.",
    ),
    "truncated png": ("id.png", png_bytes((64, 64))[:-40], "image_broken", "This image is damaged"),
    "truncated jpeg": (
        "id.jpg",
        jpeg_bytes((64, 64))[:300],
        "image_broken",
        "This image is damaged or incomplete",
    ),
}
