"""Small real files for the attachment tests: each is what its type says, by its bytes."""

from __future__ import annotations

import base64
import io
import zipfile

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5E"
                       "rkJggg==")
PDF = b"%PDF-1.4\n1 0 obj\n<</Type/Catalog>>\nendobj\ntrailer\n<</Root 1 0 R>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 48 + b"This program cannot be run in DOS mode."
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
TEXT = "Notes de la réunion : ça va.\n".encode()


def zipped(files: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


DOCX = zipped({"[Content_Types].xml": '<Types><Override ContentType="application/vnd.openxmlformats-officedocument.'
                                      'wordprocessingml.document.main+xml"/></Types>', "word/document.xml": "<w/>"})
DOCM = zipped({"[Content_Types].xml": '<Types><Override ContentType="application/vnd.ms-word.document.'
                                      'macroEnabled.main+xml"/></Types>', "word/vbaProject.bin": "x"})
ODT = zipped({"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": "<x/>"})
PLAIN_ZIP = zipped({"readme.txt": "hello"})
