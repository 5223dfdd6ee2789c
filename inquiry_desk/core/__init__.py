"""Plumbing that knows no capability: extensions, database helpers, i18n, templating, security
headers, logs and metrics, URLs, domain errors, the clock."""
