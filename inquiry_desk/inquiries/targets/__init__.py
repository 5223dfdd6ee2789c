"""Service-level targets: business hours, the team calendar, each inquiry's due times."""
