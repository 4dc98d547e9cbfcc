"""The `pingyi` command: serve, migrate, demo, users, and the campaign chores."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

os.environ.setdefault("PICCOLO_CONF", "pingyi.piccolo_conf")

import click

from pingyi.settings import LANGUAGES, SettingsError, get_settings

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def fail(message: str) -> None:
    click.secho(message, fg="red", err=True)
    sys.exit(1)


# commands that touch neither the database nor any secret: they read no settings, so
# they need no key and write nothing outside the folder they are given
STANDALONE = {"clean"}


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def main(ctx: click.Context) -> None:
    """pingyi (评议): collect, clean and deliver ratings of public services.

    Settings come from environment variables: PINGYI_DATABASE_URL (default
    sqlite:///pingyi.db), PINGYI_SECRET_KEY, PINGYI_REDIS_URL, PINGYI_BASE_URL.
    """
    if ctx.invoked_subcommand in STANDALONE:
        return
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
    help="Worker processes. On SQLite 1 (more wait for each other's write lock); "
    "on PostgreSQL one or two per core.",
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


@main.command()
@click.option("--campaign", "campaign_code", required=True, help="Campaign code, e.g. 2026Q4.")
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="CSV file to write (name, unit, link).",
)
@click.option(
    "--all", "everyone", is_flag=True, help="Everyone, not only those who have not responded yet."
)
def invitations(campaign_code: str, out_path: str, everyone: bool) -> None:
    """Issue one-time rating links for peers, superiors and self-assessment.

    Links are stored only as hashes, so each export issues fresh links and the
    person's earlier unused link stops working. Run it again later to send
    reminders: by default it lists only people who have not responded yet.
    """
    from pathlib import Path

    from pingyi.services.campaigns import CampaignError
    from pingyi.services.peer import issue_invitations, links_csv

    try:
        links = run(issue_invitations(campaign_code, only_unused=not everyone))
    except CampaignError as exc:
        fail(str(exc))
    Path(out_path).write_bytes(links_csv(links))
    click.echo(f"Wrote {len(links)} links to {out_path}. Treat the file like passwords.")


class _TqdmProgress:
    """Maps the engine's (stage, fraction) callbacks onto one progress bar."""

    def __init__(self) -> None:
        from tqdm import tqdm

        self.bar = tqdm(
            total=1000, unit="‰", bar_format="{desc:<22} {bar} {percentage:3.0f}%", file=sys.stderr
        )

    def __call__(self, stage: str, fraction: float) -> None:
        self.bar.set_description_str(stage)
        self.bar.update(max(0, int(fraction * 1000) - self.bar.n))

    def close(self) -> None:
        self.bar.update(1000 - self.bar.n)
        self.bar.close()


@main.command()
@click.argument("ratings", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder for scores.csv, flags.csv and report.html.",
)
@click.option(
    "--tickets",
    "tickets_path",
    type=click.Path(exists=True, dir_okay=False),
    help="Optional CSV ratee,hour,served from the queue system.",
)
@click.option("--k", default=3, show_default=True, help="Minimum distinct raters to report.")
@click.option(
    "--parquet",
    is_flag=True,
    help="Also write OUT/scores.parquet and OUT/flags.parquet (same columns as the CSVs).",
)
@click.option(
    "--scheduler",
    help="Run the partitions on this Dask scheduler (tcp://HOST:8786); same output.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Run the partitions on a local Dask cluster of this many processes.",
)
def clean(
    ratings: str,
    out_dir: str,
    tickets_path: str | None,
    k: int,
    parquet: bool,
    scheduler: str | None,
    workers: int | None,
) -> None:
    """Clean a ratings file (DESIGN.md section 5 columns), CSV or Parquet, from any source.

    RATINGS is read as Parquet when it ends in .parquet/.pq or starts with Parquet's
    magic bytes, as CSV otherwise. Writes OUT/scores.csv, OUT/flags.csv and
    OUT/report.html (and the Parquet files with --parquet); on bad input it stops with
    the row and column at fault and leaves OUT untouched.
    """
    from pingyi.cleaning import AggregateConfig, CleaningConfig, CleaningInputError, clean_file

    if scheduler and workers:
        fail("give --scheduler or --workers, not both")
    progress = _TqdmProgress()
    try:
        with _runner(scheduler, workers) as runner:
            clean_file(
                ratings,
                out_dir,
                CleaningConfig(aggregate=AggregateConfig(k=k)),
                ticket_counts_path=tickets_path,
                progress=progress,
                parquet=parquet,
                runner=runner,
            )
    except CleaningInputError as exc:
        progress.bar.close()
        fail(f"{ratings}: {exc}")
    progress.close()
    extra = ", scores.parquet, flags.parquet" if parquet else ""
    click.echo(f"Wrote {out_dir}/scores.csv, flags.csv{extra} and report.html")


@contextmanager
def _runner(scheduler: str | None, workers: int | None) -> Iterator[Any]:
    """The partitions' runner: in this process, or on a Dask cluster."""
    if not scheduler and not workers:
        from pingyi.cleaning.pipeline import InProcess

        yield InProcess
        return
    from pingyi.cluster import ClusterError, dask_runner

    try:
        with dask_runner(scheduler, workers) as runner:
            yield runner
    except ClusterError as exc:
        fail(str(exc))


@main.group()
def campaign() -> None:
    """Move a campaign through draft -> open -> closed -> cleaned -> published."""


def _move(code: str, target: str) -> None:
    from pingyi.services.campaigns import CampaignError, move

    try:
        run(move(code, target, "cli"))
    except CampaignError as exc:
        fail(str(exc))
    click.echo(f"Campaign {code} is now {target}.")


@campaign.command("open")
@click.argument("code")
def campaign_open(code: str) -> None:
    """Open a campaign: build who-rates-whom and start accepting ratings."""
    _move(code, "open")


@campaign.command("close")
@click.argument("code")
def campaign_close(code: str) -> None:
    """Close a campaign: links and codes stop accepting ratings."""
    _move(code, "closed")


@campaign.command("clean")
@click.argument("code")
def campaign_clean(code: str) -> None:
    """Run the statistical cleaning on a closed campaign (again: a new revision)."""
    from pingyi.services.campaigns import CampaignError
    from pingyi.services.cleaning_run import run_cleaning

    progress = _TqdmProgress()
    try:
        summary = run(run_cleaning(code, "cli", progress=progress))
    except CampaignError as exc:
        progress.bar.close()
        fail(str(exc))
    progress.close()
    flags = ", ".join(f"{k} {v}" for k, v in sorted(summary["flags"].items())) or "none"
    click.echo(
        f"Revision {summary['revision']}: {summary['responses']} responses, "
        f"{summary['flagged_responses']} flagged ({flags})."
    )


@campaign.command("publish")
@click.argument("code")
@click.option("--note", default="", help="Why this revision is published (shown with it).")
def campaign_publish(code: str, note: str) -> None:
    """Publish the latest cleaning run: HR and staff see these numbers, frozen."""
    from pingyi.services.campaigns import CampaignError
    from pingyi.services.scores import publish

    try:
        published = run(publish(code, "cli", note))
    except CampaignError as exc:
        fail(str(exc))
    click.echo(
        f"Campaign {code} published, revision {published['revision']} "
        f"(snapshot {published['snapshot_hash'][:16]})."
    )


@main.command()
@click.option("--campaign", "campaign_code", required=True, help="Campaign code.")
@click.option(
    "--format", "kind", type=click.Choice(["csv", "xlsx", "json"]), default="csv", show_default=True
)
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False))
@click.option("--lang", type=click.Choice(LANGUAGES), default="zh-CN", show_default=True)
def export(campaign_code: str, kind: str, out_file: str, lang: str) -> None:
    """Write a published campaign's scores for HR (the same as the HR pages)."""
    from pingyi.exports import render
    from pingyi.services.campaigns import CampaignError
    from pingyi.services.scores import published_feed

    try:
        facts, rows = run(published_feed(campaign_code))
    except CampaignError as exc:
        fail(str(exc))
    Path(out_file).write_bytes(render(kind, facts, rows, lang))
    click.echo(f"{len(rows)} staff, revision {facts['revision']} -> {out_file}")


@campaign.command("tick")
def campaign_tick() -> None:
    """Open and close campaigns whose scheduled time has come (one pass, for cron).

    The web server does the same every PINGYI_SCHEDULE_INTERVAL_S seconds; while a
    server holds the scheduler lock this command leaves the work to it.
    """
    from pingyi.services.schedule import SchedulerLock, apply_due

    async def once() -> tuple[bool, Any]:
        lock = SchedulerLock(get_settings().data_dir / "scheduler.lock")
        if not await lock.acquire():
            return False, None
        try:
            return True, await apply_due()
        finally:
            await lock.release()

    ran, result = run(once())
    if not ran:
        click.echo("Another scheduler (a running server) holds the lock; nothing done.")
        return
    for due in result.moved:
        click.echo(f"Campaign {due.code} is now {due.target}.")
    for due, problem in result.failed:
        click.secho(f"Campaign {due.code} could not become {due.target}: {problem}", fg="red")
    for code in result.missed:
        click.secho(f"Campaign {code} was never opened: its closing time has passed.", fg="yellow")
    if not (result.moved or result.failed or result.missed):
        click.echo("No campaign is due.")
    if result.failed:
        sys.exit(1)


@main.command()
@click.option(
    "--campaign",
    "campaign_code",
    default=None,
    help="Only this campaign (default: every open campaign).",
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder for <window>.png, <window>.svg and sheets.pdf.",
)
def qr(campaign_code: str | None, out_dir: str) -> None:
    """Write each window's QR code (PNG and SVG) and printable A4 sheets (PDF)."""
    from pathlib import Path

    from pingyi.services.qr_export import QrExportError, export_codes

    try:
        count = run(export_codes(Path(out_dir), campaign_code))
    except QrExportError as exc:
        fail(str(exc))
    click.echo(f"Wrote {count} window codes and sheets.pdf to {out_dir}")


@main.command()
@click.option("--campaign", "campaign_code", required=True, help="Campaign code, e.g. 2026Q3.")
@click.option(
    "--out", "out_file", required=True, type=click.Path(dir_okay=False), help="HTML file."
)
@click.option("--revision", type=int, default=None, help="Cleaning revision (default: latest).")
@click.option("--lang", type=click.Choice(LANGUAGES), default="zh-CN", show_default=True)
def report(campaign_code: str, out_file: str, revision: int | None, lang: str) -> None:
    """Write the campaign report (白皮书): one self-contained HTML page, printable to PDF."""
    from pathlib import Path

    from pingyi.services.white_paper import ReportError, build_report

    try:
        html = run(build_report(campaign_code, revision, lang=lang))
    except ReportError as exc:
        fail(str(exc))
    Path(out_file).write_text(html, encoding="utf-8")
    click.echo(f"Wrote the report of {campaign_code} to {out_file}")


@main.group()
def device() -> None:
    """Window rating devices (评价器)."""


@device.command("add")
@click.option("--window", "window_code", required=True, help="Code of the window it serves.")
@click.option("--name", default="", help="A label, e.g. the device's serial number.")
def device_add(window_code: str, name: str) -> None:
    """Register a device and print its key once (only a hash is kept)."""
    from pingyi.services.devices import CredentialError, add_device

    try:
        key = run(add_device(window_code, name))
    except CredentialError as exc:
        fail(str(exc))
    click.echo(key)


@device.command("revoke")
@click.option("--window", "window_code", required=True, help="Code of the window.")
def device_revoke(window_code: str) -> None:
    """Revoke the keys of a window's devices (lost, stolen or replaced)."""
    from pingyi.services.devices import CredentialError, revoke_devices

    try:
        count = run(revoke_devices(window_code))
    except CredentialError as exc:
        fail(str(exc))
    click.echo(f"{count} device key(s) of window {window_code} revoked.")


@main.group()
def apikey() -> None:
    """API keys for other systems: hr reads the scoring feed; queue (a queue system)
    posts tickets in bulk and served counts."""


@apikey.command("add")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, default=["hr"], show_default=True)
def apikey_add(name: str, scopes: tuple[str, ...]) -> None:
    """Create an API key and print it once (only a hash is kept)."""
    from pingyi.services.devices import CredentialError, add_api_key

    try:
        key = run(add_api_key(name, list(scopes)))
    except CredentialError as exc:
        fail(str(exc))
    click.echo(key)


@apikey.command("revoke")
@click.argument("name")
def apikey_revoke(name: str) -> None:
    """Revoke an API key by its name."""
    from pingyi.services.devices import CredentialError, revoke_api_key

    try:
        run(revoke_api_key(name))
    except CredentialError as exc:
        fail(str(exc))
    click.echo(f"API key {name} revoked.")


@main.group()
def audit() -> None:
    """The audit log."""


@audit.command("verify")
def audit_verify() -> None:
    """Check the hash chain: any change made behind the application's back shows."""
    from pingyi.services.audit import verify_chain

    check = run(verify_chain())
    if not check.ok:
        fail(
            f"Audit log broken at event {check.broken_at}: {check.problem} "
            f"({check.checked} events before it are intact)."
        )
    click.echo(f"Audit log intact: {check.checked} events.")


@main.command()
@click.option("--dry-run", is_flag=True, help="Show what would be purged; change nothing.")
def purge(dry_run: bool) -> None:
    """Delete personal data whose retention period has ended (PINGYI_RETAIN_*):
    fingerprint keys, call-back contacts, free-text comments, raw peer ballots and old
    audit events. Each class purged is audited. The server does the same every
    PINGYI_PURGE_INTERVAL_S seconds; while a server holds the purge lock this command
    leaves the work to it."""
    from pingyi.services.retention import Retention, purge_lock
    from pingyi.services.retention import purge as run_purge

    settings = get_settings()

    async def once() -> Any:
        lock = purge_lock(settings.data_dir)
        if not dry_run and not await lock.acquire():
            return None
        try:
            return await run_purge(
                retention=Retention.from_settings(settings), actor="cli", dry_run=dry_run
            )
        finally:
            await lock.release()

    result = run(once())
    if result is None:
        click.echo("Another purge (a running server) holds the lock; nothing done.")
        return
    for item in result.purged:
        click.echo(("would purge " if dry_run else "purged ") + item.line())
    if not result.purged:
        click.echo("Nothing is due for purging.")


@main.group()
def sync() -> None:
    """The outbox to the provincial platform (PINGYI_OUTBOX_URL)."""


@sync.command("run")
@click.option("--max-batches", type=int, default=None, help="Stop after this many batches.")
def sync_run(max_batches: int | None) -> None:
    """Deliver what is due in the outbox (for cron). Stops at the first failure, which
    is retried later with back-off. The server does the same every
    PINGYI_OUTBOX_INTERVAL_S seconds; while a server holds the outbox lock this
    command leaves the work to it."""
    from pingyi.services.outbox import Endpoint, OutboxSender, connection_pool, outbox_lock

    settings = get_settings()
    endpoint = Endpoint.from_settings(settings)
    if endpoint is None:
        fail("PINGYI_OUTBOX_URL is not set: there is nowhere to send to.")
        return

    async def once() -> Any:
        lock = outbox_lock(settings.data_dir)
        if not await lock.acquire():
            return None
        try:
            async with connection_pool(endpoint.parallel + 2):
                return await OutboxSender(endpoint).run_once(max_batches)
        finally:
            await lock.release()

    report = run(once())
    if report is None:
        click.echo("Another sender (a running server) holds the outbox lock; nothing done.")
        return
    click.echo(f"Batched {report.batched} records; delivered {report.sent} batches.")
    for error in report.errors:
        click.secho(f"Failed: {error}", fg="red")
    if report.dead:
        click.secho(f"{report.dead} batch(es) dead-lettered: see pingyi sync retry.", fg="red")
    if report.failed:
        sys.exit(1)


@sync.command("status")
def sync_status() -> None:
    """Queue length, lag, dead letters and the last error."""
    from pingyi.services.outbox import status

    state = run(status())
    lag = "-" if state["lag_s"] is None else f"{state['lag_s']:.0f} s"
    click.echo(f"pending {state['pending']}, dead {state['dead']}, sent {state['sent']}, lag {lag}")
    if state["last_error"]:
        click.echo(f"last error: {state['last_error']['last_error']}")


@sync.command("retry")
def sync_retry() -> None:
    """Requeue dead-lettered batches and make waiting ones due now (audited)."""
    from pingyi.services.outbox import retry_now

    result = run(retry_now("cli"))
    click.echo(f"Requeued {result['requeued']} dead batch(es); {result['hurried']} hurried.")


if __name__ == "__main__":  # pragma: no cover
    main()
