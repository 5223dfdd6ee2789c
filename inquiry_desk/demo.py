"""Demo data for `flask seed-demo`: each capability adds its own seeder here.

A seeder takes ``now`` and returns lines to print. Seeders must be idempotent:
running `flask seed-demo` twice creates nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from inquiry_desk.accounts.demo import seed_staff
from inquiry_desk.bulletins.demo import seed_bulletins
from inquiry_desk.directory.demo import seed_organisations
from inquiry_desk.inquiries.canned.demo import seed_canned_responses
from inquiry_desk.inquiries.demo import seed_inquiries
from inquiry_desk.mailing.demo import seed_mailing_lists

Seeder = Callable[[datetime], list[str]]

# In dependency order: staff first, then what refers to them.
SEEDERS: list[Seeder] = [seed_staff, seed_organisations, seed_inquiries, seed_canned_responses, seed_mailing_lists,
                          seed_bulletins]
