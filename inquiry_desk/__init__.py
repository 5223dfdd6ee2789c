"""Inquiry Desk: a stakeholder inquiry and communications desk."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask

from config import INSTANCE_PATH, BaseConfig, load_config

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent


def create_app(config: str | BaseConfig | None = None) -> Flask:
    """Build the application: config, extensions, plumbing, capabilities, blueprints, CLI."""
    app = Flask(
        __name__,
        template_folder=str(PROJECT_DIR / "templates"),
        instance_path=str(INSTANCE_PATH),
    )
    app.config.from_object(config if isinstance(config, BaseConfig) else load_config(config))
    _bound_url_numbers(app)
    logging.basicConfig(level=app.config["LOG_LEVEL"])
    logging.getLogger("alembic").setLevel(logging.WARNING)
    _init_extensions(app)
    _init_core(app)
    _init_capabilities(app)
    _register_blueprints(app)
    _register_commands(app)
    _trust_configured_proxies(app)
    return app


def _trust_configured_proxies(app: Flask) -> None:
    from inquiry_desk.core.proxy import TrustedProxies, parse_trusted

    app.wsgi_app = TrustedProxies(  # type: ignore[method-assign]
        app.wsgi_app, parse_trusted(app.config["FORWARDED_ALLOW_IPS"]), int(app.config["PROXY_COUNT"]))


def _bound_url_numbers(app: Flask) -> None:
    from inquiry_desk.core.ids import BoundedIntegerConverter

    app.url_map.converters["int"] = BoundedIntegerConverter


def _init_extensions(app: Flask) -> None:
    from inquiry_desk.core import database, i18n
    from inquiry_desk.core.extensions import babel, csrf, db, limiter, login_manager, migrate

    database.configure_engine_events()
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_DIR / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    login_manager.init_app(app)


def _init_core(app: Flask) -> None:
    from inquiry_desk.core import errors, i18n, logs, metrics, navigation, security, templating, uploads

    i18n.init_app(app)
    security.init_app(app)
    logs.init_app(app)
    metrics.init_app(app)
    errors.init_app(app)
    navigation.init_app(app)
    templating.init_app(app)
    uploads.init_app(app)


def _init_capabilities(app: Flask) -> None:
    from inquiry_desk import mail
    from inquiry_desk.accounts import labels as account_labels
    from inquiry_desk.directory import labels as directory_labels
    from inquiry_desk.inquiries import labels as inquiry_labels
    from inquiry_desk.jobs import metrics as job_metrics  # noqa: F401  (registers its figures for /metrics)
    from inquiry_desk.mailing import (
        bounces,
        person_data,  # noqa: F401  (registers subscriptions in a person's data)
    )

    mail.init_app(app)
    from inquiry_desk.inquiries import email_in
    from inquiry_desk.mail.signals import bounce_reported
    from inquiry_desk.mailing import recipients as mailing_recipients

    email_in.init()
    from inquiry_desk.inquiries import attachments

    attachments.init(app)
    bounce_reported.connect(email_in.follow_up_bounce)
    bounce_reported.connect(mailing_recipients.bounce_reported)
    bounces.connect()  # the send engine's hard bounces reach the leads' suppression page
    for helpers in (account_labels.TEMPLATE_GLOBALS, directory_labels.TEMPLATE_GLOBALS,
                    inquiry_labels.TEMPLATE_GLOBALS):
        app.jinja_env.globals.update(helpers)


def _register_blueprints(app: Flask) -> None:
    from inquiry_desk.accounts.views import admin_bp, auth_bp, staff_bp
    from inquiry_desk.bulletins import dispatch  # noqa: F401  (the send engine's links for bulletins)
    from inquiry_desk.bulletins.public_views import bulletins_bp
    from inquiry_desk.bulletins.staff_views import bulletins_staff_bp

    # These add their routes to inbox_bp and directory_bp (and the staff home figures).
    from inquiry_desk.inbox import (  # noqa: F401
        attachment_views,
        contact_views,
        directory_import_views,
        directory_views,
        email_views,
        home,
        inquiry_views,
        protection_views,
        views,
    )
    from inquiry_desk.inbox.audit_views import audit_log_bp
    from inquiry_desk.inbox.blueprint import inbox_bp
    from inquiry_desk.inbox.canned_views import canned_bp
    from inquiry_desk.inbox.directory_blueprint import directory_bp
    from inquiry_desk.inbox.targets_views import targets_bp
    from inquiry_desk.inbox.topics_views import topics_bp
    from inquiry_desk.intake.staff_views import intake_staff_bp
    from inquiry_desk.intake.views import intake_bp
    from inquiry_desk.jobs.views import jobs_bp
    from inquiry_desk.mailing.staff_views import mailing_staff_bp
    from inquiry_desk.mailing.views import mailing_bp
    from inquiry_desk.public.views import public_bp
    from inquiry_desk.reports.views import reports_bp

    for blueprint in (public_bp, auth_bp, staff_bp, admin_bp, intake_bp, inbox_bp, canned_bp, targets_bp, topics_bp,
                      jobs_bp, mailing_bp, mailing_staff_bp, directory_bp, audit_log_bp, bulletins_bp,
                      bulletins_staff_bp, reports_bp, intake_staff_bp):
        app.register_blueprint(blueprint)


def _register_commands(app: Flask) -> None:
    from inquiry_desk import cli
    from inquiry_desk.directory import cli as directory_cli
    from inquiry_desk.jobs import cli as jobs_cli
    from inquiry_desk.reports import cli as reports_cli

    cli.init_app(app)
    reports_cli.init_app(app)
    jobs_cli.init_app(app)
    directory_cli.init_app(app)
