"""Service-level targets: time to first response and to resolution, in business hours.

- ``business_hours``: pure arithmetic of working minutes over a calendar.
- ``calendar``: the calendar and target minutes in force (read once per request).
- ``due``: each inquiry's due times, the clock that stops while waiting, the recompute job.
- ``display``: "due in 3 hr" / "overdue by 1 day" in the reader's language.
- ``settings``: the lead-only settings, audited.

The names below are the capability's interface; import them from here.
"""

from inquiry_desk.inquiries.targets.calendar import (
    ClosureExists,
    InvalidCalendar,
    NotFound,
    TargetExists,
    TargetsError,
    bump_calendar_version,
    calendar_version,
    holidays_in_year,
    parse_working_days,
    target_for,
    team_calendar,
    working_calendar,
)
from inquiry_desk.inquiries.targets.display import describe_due, due_describer
from inquiry_desk.inquiries.targets.due import apply_targets, on_status_change, recompute_stale
from inquiry_desk.inquiries.targets.settings import (
    add_closure,
    add_topic_target,
    list_closures,
    list_targets,
    remove_closure,
    remove_topic_target,
    update_calendar,
    update_targets,
)

__all__ = [
    "ClosureExists", "InvalidCalendar", "NotFound", "TargetExists", "TargetsError", "add_closure", "add_topic_target",
    "apply_targets", "bump_calendar_version", "calendar_version", "describe_due", "due_describer", "holidays_in_year",
    "list_closures",
    "list_targets", "on_status_change", "parse_working_days", "recompute_stale", "remove_closure",
    "remove_topic_target", "target_for", "team_calendar", "update_calendar", "update_targets", "working_calendar",
]
