"""TOTP second factor (pyotp) and single-use recovery codes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp
import segno

TOTP_ISSUER = "Inquiry Desk"
RECOVERY_CODE_COUNT = 10
# One step either side forgives a clock that is a little off.
ALLOWED_DRIFT_STEPS = 1


def new_totp_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=TOTP_ISSUER)


def qr_code_svg(uri: str) -> str:
    """The enrolment QR code, drawn locally as inline SVG (no third party sees the secret)."""
    return segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff", omitsize=False)


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code is ``code``, or None. Used to accept a code once only."""
    code = "".join(ch for ch in code if ch.isdigit())
    if len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    step_now = totp.timecode(now)
    for offset in range(-ALLOWED_DRIFT_STEPS, ALLOWED_DRIFT_STEPS + 1):
        step = step_now + offset
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def new_recovery_codes() -> list[str]:
    """Ten codes of 80 random bits each, grouped for reading aloud."""
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = secrets.token_hex(10)
        codes.append("-".join(raw[i : i + 5] for i in range(0, 20, 5)))
    return codes


def hash_recovery_code(code: str) -> str:
    """Codes are long and random, so a plain SHA-256 is enough to keep them safe at rest."""
    normalised = "".join(ch for ch in code.lower() if ch.isalnum())
    return hashlib.sha256(normalised.encode()).hexdigest()
