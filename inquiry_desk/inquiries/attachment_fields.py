"""The file field every form that takes attachments shares (the public form, the portal, staff
replies), reading its files, and the refusals shown file by file under it."""

from __future__ import annotations

from typing import Any, cast

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from wtforms import MultipleFileField

from inquiry_desk.core import file_types, uploads
from inquiry_desk.inquiries.attachments import Checked, Upload, file_size

# What the browser's file picker offers first (the content decides, whatever the name says).
ACCEPT = ",".join(sorted({*file_types.EXTENSIONS.values(), ".jpeg"}))


def _limits() -> dict[str, Any]:
    config = current_app.config
    return {"count": config["ATTACHMENTS_MAX_FILES"], "file": file_size(config["ATTACHMENTS_MAX_FILE_BYTES"]),
            "message": file_size(config["ATTACHMENTS_MAX_MESSAGE_BYTES"])}


def _hint() -> str:
    return _("Up to %(count)s files, %(file)s each and %(message)s together: PDF, images (PNG, JPEG, GIF, WebP), "
             "text, CSV, Word, Excel or OpenDocument.", **_limits())


def over_limit_text() -> str:
    """What the browser (app.js) and the page for a body over the server's limit say of files too large."""
    return _("The files chosen are over the limit: up to %(count)s files, %(file)s each and %(message)s "
             "together. Choose fewer or smaller files.", **_limits())


uploads.describe_limits(over_limit_text)


def _config_value(name: str) -> LazyString:
    return LazyString(lambda: str(current_app.config[name]))


def files_field(label: Any = None) -> MultipleFileField:
    # The hint and the limits come from the configuration, so they are read when shown (LazyStrings,
    # like _l's). The data- limits let the browser refuse files over them before a long upload.
    return MultipleFileField(label or _l("Files (optional)"), description=cast(str, LazyString(_hint)),
                             render_kw={"accept": ACCEPT,
                                        "data-max-files": _config_value("ATTACHMENTS_MAX_FILES"),
                                        "data-max-file-bytes": _config_value("ATTACHMENTS_MAX_FILE_BYTES"),
                                        "data-max-message-bytes": _config_value("ATTACHMENTS_MAX_MESSAGE_BYTES"),
                                        "data-over-limit-text": LazyString(over_limit_text)})


def uploads_of(field: MultipleFileField) -> list[Upload]:
    """The files posted in the field; the empty part a browser sends when none was chosen is no file."""
    limit = int(current_app.config["ATTACHMENTS_MAX_FILE_BYTES"]) + 1  # enough to know it is too large
    uploads = []
    for storage in field.data or []:
        if not getattr(storage, "filename", None):
            continue
        uploads.append(Upload(filename=str(storage.filename), data=storage.read(limit),
                              declared_type=str(storage.mimetype or "")))
    return uploads


def show_refused(field: MultipleFileField, refused: list[Checked]) -> None:
    """One message per file refused, then how to go on (a browser never keeps chosen files)."""
    field.errors = [*(_("%(name)s: %(reason)s", name=item.name, reason=item.message) for item in refused),
                    _("Nothing was sent. Choose the files again, without those refused.")]
