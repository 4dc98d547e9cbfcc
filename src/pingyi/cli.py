"""The `pingyi` command: serve, migrate, demo, users, and the campaign chores."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

os.environ.setdefault("PICCOLO_CONF", "pingyi.piccolo_conf")

import click

from pingyi.settings import SettingsError, get_settings

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def fail(message: str) -> None:
    click.secho(message, fg="red", err=True)
    sys.exit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """pingyi (评议): collect, clean and deliver ratings of public services.

    Settings come from environment variables: PINGYI_DATABASE_URL (default
    sqlite:///pingyi.db), PINGYI_SECRET_KEY, PINGYI_REDIS_URL, PINGYI_BASE_URL.
    """
    try:
        get_settings()
    except SettingsError as exc:
        fail(f"Configuration problem: {exc}")


@main.command()
@click.option("--to", "migration_id", default="all", help="Stop at this migration ID.")
def migrate(migration_id: str) -> None:
    """Create or upgrade the database tables (safe to run again)."""
    from pingyi.db.migrate import MigrationError
    from pingyi.db.migrate import migrate as run_migrations

    try:
        message = run(run_migrations(get_settings(), migration_id))
    except MigrationError as exc:
        fail(f"Migration failed: {exc}")
    click.echo(f"Database is up to date. {message}".strip())


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, help="Port to listen on.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    help="Worker processes. On SQLite keep 1 (one writer); on PostgreSQL use more.",
)
@click.option("--no-migrate", is_flag=True, help="Do not apply pending migrations first.")
def serve(host: str, port: int, workers: int, no_migrate: bool) -> None:
    """Run the web service."""
    import uvicorn

    from pingyi.db.migrate import migrate as run_migrations
    from pingyi.logs import configure_logging

    settings = get_settings()
    if not no_migrate:
        run(run_migrations(settings))
    configure_logging()
    click.echo(f"pingyi listening on http://{host}:{port} ({settings.database_url.split('@')[-1]})")
    uvicorn.run(
        "pingyi.web.app:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        forwarded_allow_ips=os.environ.get("PINGYI_TRUSTED_PROXIES", "127.0.0.1"),
        log_config=None,
        access_log=False,
        server_header=False,
    )


@main.command()
@click.argument("username")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["agency_admin", "hr", "unit_leader", "interviewer", "staff"]),
    help="What the user may do (see the permission table in the README).",
)
@click.option("--password", help="Password (at least 10 characters). Asked for when omitted.")
@click.option("--name", "display_name", default="", help="Name shown in the console.")
@click.option("--staff", "staff_code", help="For role staff: the staff member's code.")
@click.option("--unit", "unit_code", help="For role unit_leader: the unit's code.")
def createuser(
    username: str,
    role: str,
    password: str | None,
    display_name: str,
    staff_code: str | None,
    unit_code: str | None,
) -> None:
    """Create a console user."""
    from pingyi.services.users import UserError, create_user

    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        run(
            create_user(
                username,
                password,
                role,
                display_name=display_name,
                staff_code=staff_code,
                unit_code=unit_code,
            )
        )
    except UserError as exc:
        fail(str(exc))
    click.echo(f"User {username} ({role}) created.")


@main.command()
@click.option("--password", default=None, help="Password for the demo admin (default: random).")
def demo(password: str | None) -> None:
    """Load a realistic demo (idempotent): a city service centre with ratings."""
    from pingyi.db.migrate import migrate as run_migrations
    from pingyi.services.demo import load_demo

    settings = get_settings()
    run(run_migrations(settings))
    logins = run(load_demo(admin_password=password))
    if logins:
        click.echo("Demo logins (shown once; the passwords are not stored in clear):")
        for username, role, secret in logins:
            click.echo(f"  {username:<12} {role:<13} {secret}")
    else:
        click.echo("Demo data is already loaded; existing logins were kept.")
    click.echo(f"Open {settings.base_url}/login")


if __name__ == "__main__":  # pragma: no cover
    main()
