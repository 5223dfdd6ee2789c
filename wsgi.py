"""Entry point for gunicorn (``gunicorn wsgi:app``) and ``flask --app wsgi``.

It never starts a scheduler: the scheduler is its own process.
"""

from inquiry_desk import create_app

app = create_app()
