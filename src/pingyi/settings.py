"""One settings object, read once from environment variables with safe defaults."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TypedDict

from pingyi.i18n import available_languages

# In a checkout (or an editable install) the top-level folders sit two levels above
# the package; a deployment may place them elsewhere and say so in the environment.
_PROJECT_ROOT = Path(__file__).resolve().parents[2]

# The languages are the gettext catalogs on disk (pingyi/locale/): a new catalog adds one.
LANGUAGES = available_languages()


class SettingsError(RuntimeError):
    """A setting is missing or invalid; the message says which and how to fix it."""


def _flag(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    redis_url: str | None
    base_url: str
    language: str
    production: bool
    cookie_secure: bool
    templates_dir: Path
    migrations_dir: Path
    data_dir: Path
    ticket_ttl_hours: int = 24
    login_limit_per_minute: int = 10
    rate_limit_per_device: int = 5
    rate_limit_window_s: int = 600
    # Not a refusal: beyond it the window's ratings raise an alert for the agency.
    rate_limit_per_window: int = 600
    rate_limit_per_address: int = 60
    callback_role: str = "unit_leader"
    schedule_interval_s: float = 30.0  # scheduled open/close pass; 0 turns it off
    # retention (services/retention.py): days each class of personal data is kept
    retain_fingerprint_key_days: int = 0  # after the campaign's first publication
    retain_contact_days: int = 0  # after the bad-review case closes
    retain_comment_days: int = 365  # free text, after the campaign's first publication
    retain_ballot_days: int = 0  # raw peer ballots, after the appeal period
    retain_audit_days: int = 365  # at least 183 (six months)
    retain_alert_days: int = 365  # volume alerts, after the campaign's first publication
    retain_pressure_link_days: int = 0  # pressure reports' form hash, after publication
    retain_outbox_days: int = 30  # delivered outbox records, after delivery
    purge_interval_s: float = 3600.0  # the server's purge pass; 0 turns it off
    # a Dask scheduler (tcp://host:8786) for campaigns' cleaning runs; None: in process
    cleaning_scheduler: str | None = None
    # the outbox to the provincial platform (services/outbox.py); off without a URL
    outbox_url: str | None = None
    outbox_key_id: str = ""
    outbox_secret: str = ""  # HMAC shared secret, or the Ed25519 private key (hex)
    outbox_signing: str = "hmac-sha256"  # or "ed25519"
    outbox_format: str = "generic"  # the wire format's module in services/outbound/
    outbox_interval_s: float = 5.0  # the server's sender pass; 0 turns it off
    outbox_batch_size: int = 500
    outbox_max_attempts: int = 10  # then the batch is dead-lettered
    outbox_backoff_s: float = 10.0  # first retry delay; doubles per attempt (with jitter)
    outbox_timeout_s: float = 30.0
    outbox_parallel: int = 4  # batches in flight at once

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgres://", "postgresql://"))

    @property
    def sqlite_path(self) -> Path:
        if self.is_postgres:
            raise SettingsError("sqlite_path asked for a PostgreSQL database")
        return Path(self.database_url.removeprefix("sqlite:///"))


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read the environment. Raises SettingsError with a plain-language message."""
    env = os.environ if env is None else env
    database_url = env.get("PINGYI_DATABASE_URL", "").strip() or "sqlite:///pingyi.db"
    if not database_url.startswith(("sqlite:///", "postgres://", "postgresql://")):
        raise SettingsError(
            "PINGYI_DATABASE_URL must start with sqlite:/// or postgresql:// "
            f"(got {database_url!r})"
        )
    # Outside production (demo, development, tests) a missing secret key is generated
    # and kept in the data folder; production refuses to start without one.
    production = _flag(env, "PINGYI_PRODUCTION")
    data_dir = Path(env.get("PINGYI_DATA_DIR") or ".pingyi").resolve()
    secret_key = env.get("PINGYI_SECRET_KEY", "").strip()
    if not secret_key:
        if production:
            raise SettingsError(
                "PINGYI_SECRET_KEY is required in production: set it to a long random "
                "string (for example: python -c 'import secrets; print(secrets.token_hex(32))')"
            )
        secret_key = _dev_secret(data_dir)
    elif len(secret_key) < 32:
        raise SettingsError("PINGYI_SECRET_KEY must be at least 32 characters long")
    language = env.get("PINGYI_LANGUAGE", "zh-CN").strip() or "zh-CN"
    if language not in available_languages():
        raise SettingsError(
            f"PINGYI_LANGUAGE must be one of {', '.join(available_languages())}"
            " (the catalogs in pingyi/locale/)"
        )
    templates_dir = Path(env.get("PINGYI_TEMPLATES_DIR") or _PROJECT_ROOT / "templates")
    migrations_dir = Path(
        env.get("PINGYI_MIGRATIONS_DIR") or _PROJECT_ROOT / "migrations"
    ).resolve()
    return Settings(
        database_url=database_url,
        secret_key=secret_key,
        redis_url=env.get("PINGYI_REDIS_URL", "").strip() or None,
        base_url=(env.get("PINGYI_BASE_URL") or "http://127.0.0.1:8000").rstrip("/"),
        language=language,
        production=production,
        # Behind HTTPS the cookies must be Secure; tests and the demo run on plain http.
        cookie_secure=_flag(env, "PINGYI_COOKIE_SECURE", default=production),
        templates_dir=templates_dir.resolve(),
        migrations_dir=migrations_dir,
        data_dir=data_dir,
        ticket_ttl_hours=_int(env, "PINGYI_TICKET_TTL_HOURS", 24),
        login_limit_per_minute=_int(env, "PINGYI_LOGIN_LIMIT_PER_MINUTE", 10),
        rate_limit_per_device=_int(env, "PINGYI_RATE_LIMIT_PER_DEVICE", 5),
        rate_limit_window_s=_int(env, "PINGYI_RATE_LIMIT_WINDOW_S", 600),
        rate_limit_per_window=_int(env, "PINGYI_RATE_LIMIT_PER_WINDOW", 600),
        rate_limit_per_address=_int(env, "PINGYI_RATE_LIMIT_PER_ADDRESS", 60),
        callback_role=_callback_role(env.get("PINGYI_CALLBACK_ROLE", "unit_leader")),
        schedule_interval_s=float(_int(env, "PINGYI_SCHEDULE_INTERVAL_S", 30)),
        retain_fingerprint_key_days=_days(env, "PINGYI_RETAIN_FINGERPRINT_KEY_DAYS", 0),
        retain_contact_days=_days(env, "PINGYI_RETAIN_CONTACT_DAYS", 0),
        retain_comment_days=_days(env, "PINGYI_RETAIN_COMMENT_DAYS", 365),
        retain_ballot_days=_days(env, "PINGYI_RETAIN_BALLOT_DAYS", 0),
        retain_audit_days=_days(env, "PINGYI_RETAIN_AUDIT_DAYS", 365, minimum=183),
        retain_alert_days=_days(env, "PINGYI_RETAIN_ALERT_DAYS", 365),
        retain_pressure_link_days=_days(env, "PINGYI_RETAIN_PRESSURE_LINK_DAYS", 0),
        retain_outbox_days=_days(env, "PINGYI_RETAIN_OUTBOX_DAYS", 30),
        purge_interval_s=float(_days(env, "PINGYI_PURGE_INTERVAL_S", 3600)),
        cleaning_scheduler=env.get("PINGYI_CLEANING_SCHEDULER", "").strip() or None,
        **_outbox(env),
    )


class _OutboxSettings(TypedDict):
    outbox_url: str | None
    outbox_key_id: str
    outbox_secret: str
    outbox_signing: str
    outbox_format: str
    outbox_interval_s: float
    outbox_batch_size: int
    outbox_max_attempts: int
    outbox_backoff_s: float
    outbox_timeout_s: float
    outbox_parallel: int


def _outbox(env: Mapping[str, str]) -> _OutboxSettings:
    """The provincial platform's endpoint; everything else has a default."""
    url = env.get("PINGYI_OUTBOX_URL", "").strip() or None
    key_id = env.get("PINGYI_OUTBOX_KEY_ID", "").strip()
    secret = env.get("PINGYI_OUTBOX_SECRET", "").strip()
    signing = env.get("PINGYI_OUTBOX_SIGNING", "").strip() or "hmac-sha256"
    if signing not in ("hmac-sha256", "ed25519"):
        raise SettingsError("PINGYI_OUTBOX_SIGNING must be hmac-sha256 or ed25519")
    if url is not None:
        if not url.startswith(("https://", "http://")):
            raise SettingsError("PINGYI_OUTBOX_URL must start with https:// or http://")
        if not key_id or not secret:
            raise SettingsError(
                "PINGYI_OUTBOX_URL needs PINGYI_OUTBOX_KEY_ID and PINGYI_OUTBOX_SECRET "
                "(the key id and shared secret the platform issued)"
            )
        if signing == "hmac-sha256" and len(secret) < 32:
            raise SettingsError("PINGYI_OUTBOX_SECRET must be at least 32 characters long")
    return {
        "outbox_url": url,
        "outbox_key_id": key_id,
        "outbox_secret": secret,
        "outbox_signing": signing,
        "outbox_format": env.get("PINGYI_OUTBOX_FORMAT", "").strip() or "generic",
        "outbox_interval_s": _seconds(env, "PINGYI_OUTBOX_INTERVAL_S", 5.0),
        "outbox_batch_size": _days(env, "PINGYI_OUTBOX_BATCH_SIZE", 500, minimum=1),
        "outbox_max_attempts": _days(env, "PINGYI_OUTBOX_MAX_ATTEMPTS", 10, minimum=1),
        "outbox_backoff_s": _seconds(env, "PINGYI_OUTBOX_BACKOFF_S", 10.0),
        "outbox_timeout_s": _seconds(env, "PINGYI_OUTBOX_TIMEOUT_S", 30.0, minimum=0.1),
        "outbox_parallel": _days(env, "PINGYI_OUTBOX_PARALLEL", 4, minimum=1),
    }


def _seconds(env: Mapping[str, str], name: str, default: float, minimum: float = 0.0) -> float:
    """A duration in seconds, fractions allowed (0.5), not below `minimum`."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not value >= minimum or value == float("inf"):
        raise SettingsError(f"{name} must be at least {minimum}, got {raw}")
    return value


def _days(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    """A retention period (or interval): a whole number, not below `minimum`."""
    value = _int(env, name, default)
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def _callback_role(value: str) -> str:
    """Who may read a citizen's call-back contact: the unit leader or the agency."""
    value = value.strip() or "unit_leader"
    if value not in ("unit_leader", "agency_admin"):
        raise SettingsError("PINGYI_CALLBACK_ROLE must be unit_leader or agency_admin")
    return value


def _dev_secret(data_dir: Path) -> str:
    """Outside production a key is generated once and kept in the data dir, so that
    signed QR codes and sessions survive a restart of the demo."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()


def check_folders(settings: Settings) -> None:
    """Fail at start-up, not at the first request, when a folder is missing."""
    for name, path in (
        ("PINGYI_TEMPLATES_DIR", settings.templates_dir),
        ("PINGYI_MIGRATIONS_DIR", settings.migrations_dir),
    ):
        if not path.is_dir():
            raise SettingsError(f"{name}: folder {path} does not exist")
