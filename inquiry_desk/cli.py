"""`flask` commands: users, demo data, translations check."""

from __future__ import annotations

import getpass

import click
import pyotp
from flask import Flask
from flask.cli import AppGroup

from inquiry_desk.accounts import services as accounts
from inquiry_desk.accounts.models import Role
from inquiry_desk.core.clock import utcnow
from inquiry_desk.core.extensions import db

users_cli = AppGroup("users", help="Manage staff accounts.")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", default="", help="Full name (defaults to the email address).")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.ADMIN.value, show_default=True)
@click.option("--language", type=click.Choice(["en", "fr"]), default="en", show_default=True)
@click.option("--password", envvar="INQUIRY_DESK_NEW_PASSWORD", default=None,
              help="Read from INQUIRY_DESK_NEW_PASSWORD, or asked for when omitted.")
def create_user_command(email: str, name: str, role: str, language: str, password: str | None) -> None:
    """Create a staff account (the first admin, for example)."""
    if password is None:
        password = getpass.getpass("Password (at least 12 characters): ")
    try:
        user = accounts.create_user(name=name or email, email=email, role=role, password=password,
                                    language=language, actor=None, now=utcnow())
    except accounts.InvalidEmail as exc:
        raise click.ClickException(f"Not a valid email address: {exc}") from exc
    except accounts.EmailTaken as exc:
        raise click.ClickException("A user with this email address already exists.") from exc
    except accounts.WeakPassword as exc:
        raise click.ClickException(f"The password must have at least {exc.args[0]} characters.") from exc
    db.session.commit()
    click.echo(f"Created {user.role} {user.email}. They set up their second factor at first sign-in.")


@users_cli.command("code")
@click.argument("email")
def current_code_command(email: str) -> None:
    """Print the current TOTP code of an account (for development and demos)."""
    user = accounts.find_user_by_email(email)
    if user is None or user.totp_secret is None:
        raise click.ClickException("No such account, or no second factor set up yet.")
    click.echo(pyotp.TOTP(user.totp_secret).now())


@click.command("seed-demo")
def seed_demo_command() -> None:
    """Load believable demo data; safe to run twice."""
    from inquiry_desk.demo import SEEDERS

    now = utcnow()
    for seeder in SEEDERS:
        lines = seeder(now)
        db.session.commit()
        for line in lines:
            click.echo(line)


audit_cli = AppGroup("audit", help="The audit log's hash chain.")


@audit_cli.command("seal")
def audit_seal_command() -> None:
    """Seal the entries not sealed yet (the audit_seal job does it every minute)."""
    from inquiry_desk.audit import chain

    click.echo(f"sealed {chain.seal(utcnow())}")


@audit_cli.command("verify")
def audit_verify_command() -> None:
    """Recompute the chain; exit 1 and name each entry changed, missing or whose seal changed."""
    from inquiry_desk.audit import chain

    chain.seal(utcnow())
    breaks = list(chain.verify())
    for found in breaks:
        click.echo(f"seal {found.seq}: audit entry {found.event_id} {found.problem}", err=True)
    if breaks:
        raise click.exceptions.Exit(1)
    click.echo("the audit log's chain is intact")


def init_app(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(audit_cli)
