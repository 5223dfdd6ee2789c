"""Bulletins (issue 16): bilingual composition, two-person approval, schedules, sending, the public archive."""
