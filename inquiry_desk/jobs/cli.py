"""`flask scheduler run`, `flask jobs run NAME`, `flask jobs list`; and the in-process scheduler of `make run`."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from inquiry_desk.core.clock import utcnow
from inquiry_desk.jobs import leader as leader_module
from inquiry_desk.jobs import scheduler as scheduler_module
from inquiry_desk.jobs.registry import UnknownJob, all_jobs, next_fire_time
from inquiry_desk.jobs.runner import run_job

scheduler_cli = AppGroup("scheduler", help="The scheduler process.")
jobs_cli = AppGroup("jobs", help="Scheduled jobs: list them, or run one by hand.")


@scheduler_cli.command("run")
@click.option("--lease-seconds", type=float, default=leader_module.LEASE_SECONDS, show_default=True,
              help="SQLite: how long a lease lasts without a heartbeat.")
@click.option("--renew-seconds", type=float, default=leader_module.RENEW_SECONDS, show_default=True,
              help="How often the leader renews its lease.")
@click.option("--poll-seconds", type=float, default=leader_module.STANDBY_POLL_SECONDS, show_default=True,
              help="How often a standby tries to become leader.")
def scheduler_run_command(lease_seconds: float, renew_seconds: float, poll_seconds: float) -> None:
    """Run the scheduler until SIGTERM or SIGINT (a second instance waits as a hot standby)."""
    scheduler_module.run_forever(current_app._get_current_object(),  # type: ignore[attr-defined]
                                 lease_seconds=lease_seconds, renew_seconds=renew_seconds, poll_seconds=poll_seconds)


@jobs_cli.command("run")
@click.argument("name")
def jobs_run_command(name: str) -> None:
    """Run job NAME once now; prints its summary (exit status 1 when it failed)."""
    try:
        run = run_job(name, occurrence=None, now=utcnow())
    except UnknownJob:
        names = ", ".join(all_jobs(current_app.config))
        raise click.ClickException(f"No job named {name!r} (jobs: {names}).") from None
    if run.outcome != "ok":
        click.echo(f"{name} failed: {run.error}", err=True)
        sys.exit(1)
    click.echo(f"{name}: {run.summary or 'done'}")


@jobs_cli.command("list")
def jobs_list_command() -> None:
    """List the jobs with their triggers and next runs (team time zone)."""
    now = utcnow()
    for name, job in all_jobs(current_app.config).items():
        trigger = job.build_trigger(current_app.config)
        upcoming = next_fire_time(job, current_app.config, now)
        when = upcoming.strftime("%Y-%m-%d %H:%M %Z") if upcoming else "never"
        click.echo(f"{name:<14} {trigger!s:<60} next {when}")


def init_app(app: Flask) -> None:
    app.cli.add_command(scheduler_cli)
    app.cli.add_command(jobs_cli)
    if scheduler_module.should_start_in_process(app):
        scheduler_module.start_in_process(app)
    if scheduler_module.should_start_in_process(app, flag="MAIL_WORKER_IN_PROCESS"):
        from inquiry_desk.mail import worker

        worker.start_in_process(app)
