"""How the console answers a browser: HTML that is never cached nor framed and loads nothing from elsewhere,
and redirects (sign-in, after a form)."""

from __future__ import annotations

from litestar import Response
from litestar.datastructures import Cookie
from litestar.enums import MediaType
from litestar.response import Redirect

from apps.console.html import page
from apps.console.operator import Operator

HEADERS = {
    "cache-control": "no-store",
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",  # request ids and filters stay in this tab
}


def html(body: str, status: int = 200, cookies: list[Cookie] | None = None) -> Response[str]:
    return Response(body, status_code=status, media_type=MediaType.HTML, headers=HEADERS, cookies=cookies or [])


def screen(op: Operator, title: str, path: str, body: str, status: int = 200) -> Response[str]:
    return html(page(title, path, body, op.label, op.session.csrf), status)


def to_login() -> Redirect:
    return Redirect("/login", status_code=303, headers=HEADERS)


def back_to(path: str, cookies: list[Cookie] | None = None) -> Redirect:
    return Redirect(path, status_code=303, headers=HEADERS, cookies=cookies or [])
