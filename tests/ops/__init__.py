"""Production operations: gunicorn settings, logs, metrics, load and fault tests."""
