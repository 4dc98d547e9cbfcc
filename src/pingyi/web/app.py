"""The litestar application: routes, middleware, templates, sessions, lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from asyncpg.exceptions import OperatorInterventionError
from litestar import Litestar, Router
from litestar.config.csrf import CSRFConfig
from litestar.exceptions import HTTPException
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.session.server_side import ServerSideSessionConfig
from litestar.openapi import OpenAPIConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.stores.base import Store
from litestar.stores.file import FileStore
from litestar.stores.redis import RedisStore
from litestar.template.config import TemplateConfig
from piccolo.engine import engine_finder

from pingyi import __version__, i18n
from pingyi.ratelimit import make_rate_limiter
from pingyi.services.outbox import start_sender
from pingyi.services.retention import Retention, start_purger
from pingyi.services.schedule import start_scheduler
from pingyi.services.writer import ResponseWriter
from pingyi.settings import Settings, check_folders, get_settings
from pingyi.web import heap
from pingyi.web.admin import admin_home
from pingyi.web.api import DeviceApi
from pingyi.web.api_docs import LocalSwaggerPlugin, swagger_assets_router
from pingyi.web.api_queue import QueueApi
from pingyi.web.api_scores import ScoresApi
from pingyi.web.auth import AuthController
from pingyi.web.citizen import CitizenController
from pingyi.web.console_alerts import ALERT_HANDLERS
from pingyi.web.console_campaigns import CAMPAIGN_HANDLERS
from pingyi.web.console_cases import CASE_HANDLERS
from pingyi.web.console_indicators import INDICATOR_HANDLERS
from pingyi.web.console_mystery import MYSTERY_HANDLERS
from pingyi.web.console_org import MAX_UPLOAD, ORG_HANDLERS
from pingyi.web.console_org_edit import ORG_EDIT_HANDLERS
from pingyi.web.console_outbox import OUTBOX_HANDLERS
from pingyi.web.console_phone import PHONE_HANDLERS
from pingyi.web.console_report import REPORT_HANDLERS
from pingyi.web.console_schedule import SCHEDULE_HANDLERS
from pingyi.web.console_scores import SCORE_HANDLERS
from pingyi.web.console_setup import SETUP_HANDLERS
from pingyi.web.csrf import SafeCSRFMiddleware
from pingyi.web.errors import handle_http, handle_unexpected
from pingyi.web.guards import require_permission
from pingyi.web.headers import STATIC_CACHE, security_headers
from pingyi.web.health import healthz
from pingyi.web.limits import input_limits_middleware
from pingyi.web.peer import PeerController
from pingyi.web.rendering import configure_templates
from pingyi.web.sessions import RotatingSessionConfig

log = logging.getLogger("pingyi.web")

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

# Routes that authenticate by other means than the admin session cookie: the
# citizen form carries its own signed token, devices and HR use bearer keys.
CSRF_EXEMPT = ["^/api/", "^/r/", "^/t/", "^/i/", "^/p$", "^/healthz$"]


def _session_store(settings: Settings) -> Store:
    # Shared between workers: Redis when configured, otherwise files on this host.
    if settings.redis_url:
        return RedisStore.with_client(url=settings.redis_url, namespace="pingyi-sessions")
    folder = settings.data_dir / "sessions"
    folder.mkdir(parents=True, exist_ok=True)
    return FileStore(path=folder)


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    check_folders(settings)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        engine = engine_finder()
        # Without a pool every PostgreSQL query opens its own connection (10x slower).
        pooled = False
        if engine is not None and settings.is_postgres:
            try:
                await engine.start_connection_pool(min_size=2, max_size=20)
                pooled = True
            except (OSError, ConnectionError, OperatorInterventionError) as exc:
                # Start anyway: /healthz says 503 and queries connect once it is back.
                # (A worker restarted while PostgreSQL starts or stops gets "cannot
                # connect now": failing then would stop the whole server.)
                log.warning("database unreachable at start-up (%s)", type(exc).__name__)
        app.state.limiter = make_rate_limiter(settings.redis_url)
        # With PINGYI_OUTBOX_URL set, public ratings are queued for the provincial
        # platform in their own transaction; the sender delivers them (one lock holder).
        app.state.writer = ResponseWriter(outbox=settings.outbox_url is not None)
        await app.state.writer.start()
        # Scheduled campaign open/close (one lock holder among all workers).
        app.state.scheduler = await start_scheduler(settings.schedule_interval_s, settings.data_dir)
        # Retention purge of personal data (one lock holder among all workers).
        app.state.purger = await start_purger(
            settings.purge_interval_s, Retention.from_settings(settings), settings.data_dir
        )
        app.state.outbox_sender = await start_sender(settings)
        try:
            yield
        finally:
            if app.state.outbox_sender is not None:
                await app.state.outbox_sender.stop()
            if app.state.purger is not None:
                await app.state.purger.stop()
            if app.state.scheduler is not None:
                await app.state.scheduler.stop()
            await app.state.writer.stop()
            await app.state.limiter.close()
            if engine is not None and pooled:
                await engine.close_connection_pool()

    admin = Router(
        path="/",
        route_handlers=[
            admin_home,
            *SETUP_HANDLERS,
            *CAMPAIGN_HANDLERS,
            *ALERT_HANDLERS,
            *REPORT_HANDLERS,
            *ORG_HANDLERS,
            *ORG_EDIT_HANDLERS,
            *SCHEDULE_HANDLERS,
            *INDICATOR_HANDLERS,
            *CASE_HANDLERS,
            *PHONE_HANDLERS,
            *MYSTERY_HANDLERS,
            *SCORE_HANDLERS,
            *OUTBOX_HANDLERS,
        ],
        guards=[require_permission],
        include_in_schema=False,  # the published schema is the /api/ routes only
    )
    app = Litestar(
        route_handlers=[
            healthz,
            AuthController,
            CitizenController,
            PeerController,
            DeviceApi,
            QueueApi,
            ScoresApi,
            admin,
            swagger_assets_router(),
            create_static_files_router(
                path="/static",
                directories=[STATIC_DIR],
                include_in_schema=False,
                cache_control=STATIC_CACHE,
            ),
        ],
        lifespan=[lifespan],
        # The first is the outermost: bodies are checked (size, fields, depth, control
        # characters) before the CSRF check or a handler parses them.
        middleware=[
            security_headers(settings.production),
            input_limits_middleware,
            _session_config(settings).middleware,
            DefineMiddleware(
                SafeCSRFMiddleware,
                config=CSRFConfig(
                    secret=settings.secret_key,
                    cookie_secure=settings.cookie_secure,
                    cookie_httponly=True,
                    cookie_samesite="strict",
                    exclude=CSRF_EXEMPT,
                ),
            ),
        ],
        # The largest body any route takes (an organisation import); routes set less.
        request_max_body_size=MAX_UPLOAD,
        multipart_form_part_limit=50,
        stores={"sessions": _session_store(settings)},
        template_config=TemplateConfig(
            directory=settings.templates_dir,
            engine=JinjaTemplateEngine,
            engine_callback=configure_templates,
        ),
        openapi_config=OpenAPIConfig(
            title="pingyi API",
            version=__version__,
            path="/api/docs",
            description="Device ratings, service tickets and the HR scoring feed.",
            render_plugins=[LocalSwaggerPlugin()],
        ),
        exception_handlers={HTTPException: handle_http, Exception: handle_unexpected},
        debug=False,
    )
    app.state.settings = settings
    return app


def _session_config(settings: Settings) -> ServerSideSessionConfig:
    return RotatingSessionConfig(
        key="pingyi_session",
        max_age=8 * 3600,
        secure=settings.cookie_secure,
        httponly=True,
        samesite="lax",
        store="sessions",
        exclude=CSRF_EXEMPT,
    )


def app_factory() -> Litestar:
    """Entry point for the ASGI server (`pingyi.web.app:app_factory`, factory mode)."""
    app = create_app()
    # A server's worker: every catalog parsed now rather than under load, then its
    # start-up objects out of the collector's sight (heap.py). Not in create_app: a
    # test process makes app after app and must free them.
    i18n.load_all()
    heap.settle()
    return app
