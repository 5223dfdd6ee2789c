"""Inquiry Desk: a stakeholder inquiry and communications desk."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask

from config import INSTANCE_PATH, BaseConfig, load_config

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent


def create_app(config: str | BaseConfig | None = None) -> Flask:
    """Build the application: config, extensions, blueprints, CLI, error pages."""
    app = Flask(
        __name__,
        template_folder=str(PROJECT_DIR / "templates"),
        instance_path=str(INSTANCE_PATH),
    )
    app.config.from_object(config if isinstance(config, BaseConfig) else load_config(config))
    logging.basicConfig(level=app.config["LOG_LEVEL"])
    logging.getLogger("alembic").setLevel(logging.WARNING)

    from inquiry_desk import database, errors, i18n, mail, navigation, observability, security, templating
    from inquiry_desk.extensions import babel, csrf, db, limiter, login_manager, migrate

    database.configure_engine_events()
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_DIR / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    login_manager.init_app(app)

    i18n.init_app(app)
    security.init_app(app)
    observability.init_app(app)
    errors.init_app(app)
    navigation.init_app(app)
    templating.init_app(app)
    mail.init_app(app)
    _register_blueprints(app)

    from inquiry_desk import cli
    from inquiry_desk.jobs import cli as jobs_cli

    cli.init_app(app)
    jobs_cli.init_app(app)
    return app


def _register_blueprints(app: Flask) -> None:
    from inquiry_desk.accounts.views import admin_bp, auth_bp, staff_bp
    from inquiry_desk.inbox.canned_views import canned_bp
    from inquiry_desk.inbox.views import inbox_bp
    from inquiry_desk.intake.views import intake_bp
    from inquiry_desk.jobs.views import jobs_bp
    from inquiry_desk.public.views import public_bp

    for blueprint in (public_bp, auth_bp, staff_bp, admin_bp, intake_bp, inbox_bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(canned_bp)
    app.register_blueprint(jobs_bp)
    from inquiry_desk.inbox.targets_views import targets_bp  # targets: added by the targets engineer

    app.register_blueprint(targets_bp)
