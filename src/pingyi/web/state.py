"""Typed access to what the app keeps on its state (settings, rate limiter)."""

from __future__ import annotations

from typing import Any

from litestar import Request

from pingyi.ratelimit import RateLimiter
from pingyi.services.reference_cache import ReferenceCache
from pingyi.services.writer import ResponseWriter
from pingyi.settings import Settings


def settings_of(request: Request[Any, Any, Any]) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def limiter_of(request: Request[Any, Any, Any]) -> RateLimiter:
    limiter: RateLimiter = request.app.state.limiter
    return limiter


def writer_of(request: Request[Any, Any, Any]) -> ResponseWriter:
    writer: ResponseWriter = request.app.state.writer
    return writer


def reference_cache_of(request: Request[Any, Any, Any]) -> ReferenceCache:
    """One cache per app instance, made on first use."""
    cache: ReferenceCache | None = getattr(request.app.state, "reference_cache", None)
    if cache is None:
        cache = request.app.state.reference_cache = ReferenceCache()
    return cache
