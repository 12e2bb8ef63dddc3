"""Signing in (an operator pastes an admin or microDAO operator key) and out. Every form carries a CSRF token:
the session's, or before there is one, a token in its own short-lived cookie (double submit)."""

from __future__ import annotations

from litestar import Response, get, post
from litestar.response import Redirect

from apps.console.html import csrf_field, e, page
from apps.console.operator import may_use_console, operator_of
from apps.console.responses import back_to, html, to_login
from apps.console.routes import AnyRequest, Console
from apps.console.sessions import LOGIN_COOKIE, same_token
from domain.kernel.errors import DaarionError


def _login_page(container: Console, problem: str = "", status: int = 200) -> Response[str]:
    token, cookie = container.sessions.login_token()
    said = f'<p class="bad" id="problem">{e(problem)}</p>' if problem else ""
    body = (f'<div class="card">{said}<form method="post" action="/login" class="filters">{csrf_field(token)}'
            '<label>API key (an admin key, or an operator key of one microDAO)'
            '<input type="password" name="key" autocomplete="off" size="60" required></label>'
            '<button type="submit">Sign in</button></form><p class="muted">The key is checked and then '
            'forgotten: the session cookie names only its id, and ends when the key is revoked.</p></div>')
    return html(page("Sign in", "/login", body), status, [cookie])


@get("/login", include_in_schema=False)
async def login_form(container: Console) -> Response[str]:
    return _login_page(container)


@post("/login", include_in_schema=False, status_code=303)
async def login(request: AnyRequest, container: Console) -> Response[str] | Redirect:
    form = await request.form()
    if not same_token(request.cookies.get(LOGIN_COOKIE), form.get("csrf")):
        return _login_page(container, "The form expired; sign in again.", 403)
    try:
        principal = await container.authenticator.authenticate(str(form.get("key") or "").strip())
    except DaarionError:
        return _login_page(container, "That key is not valid (unknown, revoked or expired).", 401)
    if not may_use_console(principal):
        return _login_page(container, "That is not an operator key with usage:read (an agent's key cannot sign "
                                      "in here).", 403)
    _, cookie = container.sessions.start(principal.key_id)
    return back_to("/spend", [cookie])


@post("/logout", include_in_schema=False, status_code=303)
async def logout(request: AnyRequest, container: Console) -> Redirect:
    op = await operator_of(request, container)
    form = await request.form()
    if op is not None and not same_token(op.session.csrf, form.get("csrf")):
        return back_to("/spend")
    response = to_login()
    for cookie in container.sessions.end():
        response.set_cookie(cookie)
    return response


AUTH = [login_form, login, logout]
