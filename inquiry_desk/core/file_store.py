"""Files kept outside the web root, addressed by their content (SHA-256).

``ATTACHMENTS_DIR`` (default ``<instance>/attachments``) holds ``ab/cd/<hash>``: the path
comes from the hash alone, never from a name someone gave, so no name can climb out of the
folder or overwrite another file. A file is written to a temporary file in the same folder
and renamed: a reader never sees half a file, and two writers of the same content leave one.
The same content stored twice is one file; whoever deletes the rows decides when the file
goes (``unlink`` after the commit, when no row names it any more: ``inquiries.attachments`` decides
it under the file's lock, so that an upload of the same bytes at that moment keeps its file).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from flask import Response, current_app, send_file

_HASH = re.compile(r"[0-9a-f]{64}")


def root() -> Path:
    configured = current_app.config.get("ATTACHMENTS_DIR") or ""
    return Path(configured) if configured else Path(current_app.instance_path) / "attachments"


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def path_for(sha256: str) -> Path:
    """Where the file of this hash lives; refuses anything that is not a SHA-256 in hex."""
    if not _HASH.fullmatch(sha256):
        raise ValueError("not a SHA-256")
    return root() / sha256[:2] / sha256[2:4] / sha256


def store(data: bytes) -> str:
    """Keep the bytes (once per content) and return their hash."""
    sha256 = digest(data)
    target = path_for(sha256)
    if target.exists() and target.stat().st_size == len(data):
        return sha256
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o640)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return sha256


def exists(sha256: str) -> bool:
    return path_for(sha256).is_file()


def read(sha256: str) -> bytes | None:
    try:
        return path_for(sha256).read_bytes()
    except (FileNotFoundError, ValueError):
        return None


def unlink(sha256: str) -> None:
    path_for(sha256).unlink(missing_ok=True)


def download(sha256: str, content_type: str, name: str) -> Response:
    """The file as a download, streamed from disk: never shown in the page (``attachment``), never
    sniffed into another type, never cached by a shared cache, and sandboxed if opened anyway."""
    response = send_file(path_for(sha256), mimetype=content_type, as_attachment=True, download_name=name,
                         conditional=False, etag=False, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
