"""Sort, filter and page parameters of the console's large tables, read from the
query string and checked against what each table allows.

Every table is plain GET: the filter form, the column headers and the page links are
links with query parameters, so a table works without JavaScript and a filtered view
can be bookmarked or downloaded (the download link carries the same parameters).
A parameter the table does not know is refused with a readable 400 (`TableError`),
never a 500; a page past the end is clamped to the last page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from litestar import Request
from litestar.response import Response, Template

from pingyi import exports
from pingyi.i18n import translate
from pingyi.services.listings import Listing
from pingyi.web.rendering import attachment, render, request_language

PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_SIZE = 50
MAX_TEXT = 100  # a text search longer than this is cut, not refused
EXPORT_FORMATS = ("csv", "xlsx")


class TableError(ValueError):
    """A query the table cannot serve; `key` and `params` name the message."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(f"{key} {params}")
        self.key = key
        self.params = params


@dataclass(frozen=True)
class TableSpec:
    """What one table allows: sort keys, and per filter the values it takes (a
    tuple of choices, or None for free text up to 64 characters)."""

    sorts: tuple[str, ...]
    default_sort: str
    default_desc: bool = False
    filters: Mapping[str, tuple[str, ...] | None] = field(default_factory=dict)


@dataclass(frozen=True)
class TableQuery:
    spec: TableSpec
    sort: str
    desc: bool
    page: int
    size: int
    q: str
    filters: Mapping[str, str]
    fixed: Mapping[str, str] = field(default_factory=dict)  # e.g. preview=1, kept as is

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    def params(self, **changes: Any) -> dict[str, str]:
        """The query string as a dict, only what differs from the defaults."""
        values: dict[str, Any] = {
            **self.fixed,
            **{k: v for k, v in self.filters.items() if v},
            "q": self.q,
            "sort": self.sort if self.sort != self.spec.default_sort else "",
            "dir": ("desc" if self.desc else "asc") if self.desc != self.spec.default_desc else "",
            "page": self.page if self.page != 1 else "",
            "size": self.size if self.size != DEFAULT_SIZE else "",
        }
        values.update(changes)
        return {k: str(v) for k, v in values.items() if v not in ("", None)}

    def url(self, **changes: Any) -> str:
        """`?…` for a link to this view with some parameters changed."""
        return "?" + urlencode(self.params(**changes))

    def sort_url(self, key: str) -> str:
        """A column header's link: sort by it, or flip the direction if it is the sort."""
        desc = not self.desc if key == self.sort else False
        return self.url(sort=key, dir="desc" if desc else "asc", page="")

    def aria_sort(self, key: str) -> str:
        if key != self.sort:
            return "none"
        return "descending" if self.desc else "ascending"

    def export_url(self, fmt: str) -> str:
        return self.url(page="", size="", format=fmt)

    def reset_url(self) -> str:
        return "?" + urlencode(dict(self.fixed))


def _text(params: Mapping[str, Any], name: str) -> str:
    value = params.get(name, "")
    return value if isinstance(value, str) else ""


def _positive(raw: str, name: str) -> int:
    if not raw:
        return 0
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9 or int(raw) < 1:
        raise TableError("table.bad_number", name=name, value=raw[:20])
    return int(raw)


def parse(
    params: Mapping[str, Any], spec: TableSpec, fixed: Mapping[str, str] | None = None
) -> TableQuery:
    """Read and check one table's parameters; raises TableError for a bad one."""
    sort = _text(params, "sort") or spec.default_sort
    if sort not in spec.sorts:
        raise TableError("table.bad_sort", value=sort[:40], allowed=", ".join(spec.sorts))
    direction = _text(params, "dir")
    if direction not in ("", "asc", "desc"):
        raise TableError("table.bad_dir", value=direction[:20])
    desc = spec.default_desc if not direction else direction == "desc"
    size = _positive(_text(params, "size"), "size") or DEFAULT_SIZE
    if size not in PAGE_SIZES:
        raise TableError(
            "table.bad_size", value=size, allowed=", ".join(str(s) for s in PAGE_SIZES)
        )
    page = _positive(_text(params, "page"), "page") or 1
    filters: dict[str, str] = {}
    for name, choices in spec.filters.items():
        value = _text(params, name).strip()
        if not value:
            continue
        if choices is None:
            filters[name] = value[:64]
        elif value in choices:
            filters[name] = value
        else:
            raise TableError("table.bad_filter", name=name, value=value[:40])
    q = " ".join(_text(params, "q").split())[:MAX_TEXT]
    return TableQuery(spec, sort, desc, page, size, q, filters, dict(fixed or {}))


def export_format(params: Mapping[str, Any]) -> str:
    fmt = _text(params, "format") or "csv"
    if fmt not in EXPORT_FORMATS:
        raise TableError("table.bad_format", value=fmt[:20])
    return fmt


@dataclass(frozen=True)
class Page:
    rows: Sequence[Any]
    total: int
    query: TableQuery

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.query.size))

    @property
    def first_row(self) -> int:
        return 0 if not self.total else self.query.offset + 1

    @property
    def last_row(self) -> int:
        return self.query.offset + len(self.rows)

    def links(self) -> list[int | None]:
        """Page numbers to link: the first, the last and two either side of the
        current one; None where numbers are left out."""
        current, last = self.query.page, self.pages
        wanted = sorted({1, last, *range(max(1, current - 2), min(last, current + 2) + 1)})
        out: list[int | None] = []
        previous = 0
        for number in wanted:
            if number - previous > 1:
                out.append(None)
            out.append(number)
            previous = number
        return out


def clamp(query: TableQuery, total: int) -> TableQuery:
    """A page past the end becomes the last page (a filter narrowed the rows)."""
    last = max(1, -(-total // query.size))
    return replace(query, page=min(query.page, last))


def page_of(rows: Sequence[Any], query: TableQuery) -> Page:
    """Paginate rows already filtered and sorted in memory."""
    query = clamp(query, len(rows))
    return Page(rows[query.offset : query.offset + query.size], len(rows), query)


def sort_rows(rows: list[Any], key: Callable[[Any], Any], desc: bool) -> list[Any]:
    """Sort with missing values (None) last whatever the direction."""
    present = [r for r in rows if key(r) is not None]
    missing = [r for r in rows if key(r) is None]
    return sorted(present, key=key, reverse=desc) + missing


def listing(query: TableQuery, everything: bool = False) -> Listing:
    """The service's view of a checked query: one page, or every row for a download."""
    return Listing(
        filters=query.filters,
        q=query.q,
        sort=query.sort,
        desc=query.desc,
        offset=0 if everything else query.offset,
        limit=None if everything else query.size,
    )


def refused(request: Request[Any, Any, Any], exc: TableError) -> Template:
    """A 400 page saying which parameter was wrong and what it takes."""
    message = translate(exc.key, request_language(request), **exc.params)
    return render(request, "error.html", status_code=400, message=message)


def download(
    request: Request[Any, Any, Any],
    fmt: str,
    name: str,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
) -> Response[bytes]:
    """A filtered table as a formula-safe CSV or XLSX file (exports.py)."""
    body = exports.table_file(fmt, header, rows, title=name)
    return Response(
        body,
        media_type=exports.MEDIA_TYPES[fmt],
        headers={"content-disposition": attachment(f"{name}.{fmt}")},
    )


def back_query(value: Any) -> str:
    """A form's "back to this view" field: a query string of ours, or nothing (never
    a URL of its own, so a redirect with it stays on the page it came from)."""
    if not isinstance(value, str) or not value.startswith("?") or len(value) > 600:
        return ""
    return value if value.isprintable() and "\\" not in value and "#" not in value else ""
