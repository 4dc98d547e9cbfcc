"""适老化 (elderly-friendly) mode of the citizen and peer pages: large text and high
contrast, one tap away, remembered on the device.

The switch is a plain link to the page's own address with ``?text=large`` (or
``?text=standard``): the page answers in that mode and keeps the choice in a cookie
for a year. So it works without JavaScript, keeps the ticket or invitation token
(they are in the path, and other query parameters are kept), and redirects nowhere.
The styles are in static/rate.css under ``html.large``.

Reference: 工业和信息化部《互联网网站适老化通用设计规范》(2021). What this mode and
the pages implement of it:
- 辅助阅读: a large-font (特大字体) and high-contrast background (背景色高对比)
  version of the page, switched on from a visible entry on the page itself;
- 文字放大: the layout holds when text is doubled (200 %), down to a 320 px wide
  screen, with no horizontal scrolling and nothing cut off;
- 行距: line spacing at least 1.3 times the text (1.6 in this mode);
- 颜色不作为唯一手段: an input error is told in words on the question (a marker word
  and the message), never by colour alone;
- 全程键盘: every control can be reached and used from the keyboard, with a visible
  focus outline;
- 无广告、无诱导按键: the pages have no advertising, pop-ups or lure buttons.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request
from litestar.response import Response

TEXT_COOKIE = "text"
LARGE, STANDARD = "large", "standard"


def large_text(request: Request[Any, Any, Any]) -> bool:
    """This request's mode: the link's ?text=, else the device's remembered choice."""
    asked = request.query_params.get("text")
    if asked in (LARGE, STANDARD):
        return asked == LARGE
    return request.cookies.get(TEXT_COOKIE) == LARGE


def text_size_href(request: Request[Any, Any, Any], large: bool) -> str:
    """This same page in the other mode, its other query parameters kept."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "text"]
    return "?" + urlencode([*params, ("text", STANDARD if large else LARGE)])


def remember_text_size(request: Request[Any, Any, Any], response: Response[Any]) -> None:
    asked = request.query_params.get("text")
    if asked in (LARGE, STANDARD):
        response.set_cookie(TEXT_COOKIE, asked, max_age=365 * 86400, httponly=True, samesite="lax")
