"""Demo staff: one account per role, with known passwords, for the demo only."""

from __future__ import annotations

from datetime import datetime

from inquiry_desk.accounts import services as accounts
from inquiry_desk.accounts.models import Role
from inquiry_desk.accounts.second_factor import new_totp_secret

DEMO_STAFF = [
    ("Amira Haddad", "admin@example.org", Role.ADMIN, "en"),
    ("Louis Tremblay", "lead@example.org", Role.LEAD, "fr"),
    ("Grace Okafor", "officer@example.org", Role.OFFICER, "en"),
    ("Émilie Gagnon", "agente@example.org", Role.OFFICER, "fr"),
    ("Samuel Park", "viewer@example.org", Role.VIEWER, "en"),
]
DEMO_PASSWORD = "demo-password-{role}"  # noqa: S105  (demo only: printed by `flask seed-demo`)


def seed_staff(now: datetime) -> list[str]:
    lines = ["Demo staff accounts (demo only; sign in at /auth/login):"]
    for name, email, role, language in DEMO_STAFF:
        password = DEMO_PASSWORD.format(role=role.value)
        user = accounts.find_user_by_email(email)
        if user is None:
            user = accounts.create_user(name=name, email=email, role=role, password=password,
                                        actor=None, now=now, language=language)
            user.totp_secret = new_totp_secret()
        lines.append(f"  {role.value:8} {email:24} password {password:28} TOTP secret {user.totp_secret}")
    lines.append("  Current TOTP code: flask --app wsgi users code EMAIL")
    return lines
