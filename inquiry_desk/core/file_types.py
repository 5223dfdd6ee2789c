"""What a file is, read from its bytes (never from its name), and whether the desk takes it.

Images and PDF by their magic numbers (the ``filetype`` library, pure Python); office
documents are zip files, so the container alone says nothing: the inner declaration is read
(``mimetype`` of OpenDocument, ``[Content_Types].xml`` of Office Open XML), and one that
carries macros is refused. Plain text is text only when it has no NUL, decodes as UTF-8 or
Windows-1252, and does not start like markup (HTML, SVG and XML are refused: a browser could
run them). The name only tells CSV from plain text once the content is known to be text.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile

import filetype

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
TEXT = "text/plain"
CSV = "text/csv"
IMAGES = ("image/png", "image/jpeg", "image/gif", "image/webp")
ACCEPTED = (PDF, *IMAGES, TEXT, CSV, DOCX, XLSX, ODT, ODS)
# The extension a download gets for each type (the name someone gave may say otherwise).
EXTENSIONS = {PDF: ".pdf", "image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp",
              TEXT: ".txt", CSV: ".csv", DOCX: ".docx", XLSX: ".xlsx", ODT: ".odt", ODS: ".ods"}

_MARKUP = re.compile(rb"^\s*<(!doctype|html|head|body|script|svg|\?xml|iframe|object|embed|div|a\s)", re.IGNORECASE)
_OOXML = {"wordprocessingml.document.main+xml": DOCX, "spreadsheetml.sheet.main+xml": XLSX}
_ODF = {ODT.encode(): ODT, ODS.encode(): ODS}
_NAME_CONTROL = re.compile(r"[\x00-\x1f\x7f<>:\"|?*]")
NAME_MAX = 200
ZIP_ENTRIES_MAX = 5_000


def sniff(data: bytes, name: str = "") -> str | None:
    """The accepted type of these bytes, or None when the desk does not take them."""
    if not data:
        return None
    if data[:4] == b"PK\x03\x04":
        return _office(data)
    kind = filetype.guess(data[:8192])
    if kind is not None:
        return kind.mime if kind.mime in (PDF, *IMAGES) else None
    if _is_text(data):
        return CSV if name.lower().endswith(".csv") else TEXT
    return None


def _is_text(data: bytes) -> bool:
    head = data[:8192]
    if b"\x00" in head or _MARKUP.match(head.lstrip(b"\xef\xbb\xbf")):
        return False
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        pass
    # Windows-1252 text (older mail clients): mostly printable, few control bytes.
    controls = sum(1 for byte in head if byte < 9 or 13 < byte < 32)
    return controls * 100 <= len(head)


def _office(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if len(names) > ZIP_ENTRIES_MAX:
                return None
            if any(name.lower().endswith("vbaproject.bin") or name.startswith(("Basic/", "Scripts/"))
                   for name in names):
                return None  # macros
            if "mimetype" in names:
                with archive.open("mimetype") as file:
                    return _ODF.get(file.read(100).strip())
            if "[Content_Types].xml" in names:
                with archive.open("[Content_Types].xml") as file:
                    declared = file.read(1_000_000).decode("utf-8", "replace")
                if "macroEnabled" in declared:
                    return None
                for marker, mime in _OOXML.items():
                    if marker in declared:
                        return mime
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError, NotImplementedError, EOFError):
        return None
    return None


def clean_name(name: str, content_type: str | None = None) -> str:
    """A name to show and to offer on download: the last part of any path, no control or reserved
    characters, at most NAME_MAX characters, ending with the extension of the type found."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    name = " ".join(_NAME_CONTROL.sub("", name).split()).strip(". ")
    extension = EXTENSIONS.get(content_type or "", "")
    stem = name
    if extension and not name.lower().endswith(extension) and not (extension == ".jpg" and
                                                                  name.lower().endswith(".jpeg")):
        stem = f"{name}{extension}" if name else ""
    stem = stem or f"attachment{extension}"
    if len(stem) > NAME_MAX:
        keep = stem.rsplit(".", 1)
        stem = keep[0][:NAME_MAX - len(keep[1]) - 1] + "." + keep[1] if len(keep) == 2 and len(keep[1]) < 10 \
            else stem[:NAME_MAX]
    return stem
