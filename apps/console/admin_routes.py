"""The Memory and Keys pages and their forms (retry a dead letter; create or revoke a key). Each POST checks
the session's CSRF token; keys change only with an admin key, dead letters only within the operator's reach."""

from __future__ import annotations

from litestar import Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect

from apps.console.operator import Operator, operator_of
from apps.console.responses import back_to, screen, to_login
from apps.console.routes import AnyRequest, Console, Text
from apps.console.sessions import same_token
from apps.console.views_admin import keys_body, memory_body
from domain.identity.scopes import AGENT_SCOPES, MICRODAO_OPERATOR_SCOPES, OPERATOR_SCOPES, parse_scopes
from domain.kernel.errors import DaarionError, PermissionDenied


async def _checked(request: AnyRequest, container: Console) -> tuple[Operator | None, dict[str, str]]:
    """The operator, if the form is theirs (its CSRF token is their session's); else None."""
    op = await operator_of(request, container)
    form = {k: str(v) for k, v in (await request.form()).items()}
    if op is None or not same_token(op.session.csrf, form.get("csrf")):
        return None, form
    return op, form


@get("/memory", include_in_schema=False)
async def memory(request: AnyRequest, container: Console, notice: Text = None) -> Response[str] | Redirect:
    if (op := await operator_of(request, container)) is None:
        return to_login()
    health = await container.memory.health(op.microdao)
    return screen(op, "Memory", "/memory", memory_body(health, op.session.csrf, notice or ""))


@post("/memory/dead/{job_id:int}/retry", include_in_schema=False, status_code=303)
async def retry_dead(request: AnyRequest, container: Console, job_id: FromPath[int]) -> Redirect:
    op, _ = await _checked(request, container)
    if op is None:
        return to_login()
    done = await container.memory.retry_dead(job_id, op.microdao)
    return back_to(f"/memory?notice=job+{job_id}+{'queued+again' if done else 'is+not+a+dead+letter+here'}")


async def _keys_page(op: Operator, container: Console, issued: str | None = None, notice: str = "",
                     status: int = 200) -> Response[str]:
    agents = [a for a in await container.identity.agents() if op.sees(a.microdao_id)]
    keys = [k for k in await container.identity.keys() if op.microdao is None or k.microdao_id == op.microdao]
    return screen(op, "Keys and agents", "/keys",
                  keys_body(agents, keys, op.session.csrf, op.is_admin, issued, notice), status)


@get("/keys", include_in_schema=False)
async def keys(request: AnyRequest, container: Console, notice: Text = None) -> Response[str] | Redirect:
    if (op := await operator_of(request, container)) is None:
        return to_login()
    return await _keys_page(op, container, notice=notice or "")


@post("/keys", include_in_schema=False, status_code=200)
async def create_key(request: AnyRequest, container: Console) -> Response[str] | Redirect:
    op, form = await _checked(request, container)
    if op is None:
        return to_login()
    agent = form.get("agent_id", "").strip() or None
    microdao = form.get("microdao_id", "").strip() or None
    try:
        op.require_admin()
        default = AGENT_SCOPES if agent else MICRODAO_OPERATOR_SCOPES if microdao else OPERATOR_SCOPES
        scopes = parse_scopes(form["scopes"]) if form.get("scopes", "").strip() else default
        issued = await container.identity.issue_key(agent, scopes, op.principal.key_id, microdao_id=microdao,
                                                    name=form.get("name", "").strip()[:100])
    except DaarionError as exc:
        return await _keys_page(op, container, notice=f"Not created: {exc}",
                                status=403 if isinstance(exc, PermissionDenied) else 400)
    return await _keys_page(op, container, issued=issued.key,
                            notice=f"Key {issued.record.key_id} created. It is shown below once.")


@post("/keys/{key_id:str}/revoke", include_in_schema=False, status_code=303)
async def revoke_key(request: AnyRequest, container: Console, key_id: FromPath[str]) -> Response[str] | Redirect:
    op, _ = await _checked(request, container)
    if op is None:
        return to_login()
    try:
        op.require_admin()
        await container.identity.revoke_key(key_id, op.principal.key_id)
    except DaarionError as exc:
        return await _keys_page(op, container, notice=f"Not revoked: {exc}", status=400)
    return back_to(f"/keys?notice=key+{key_id}+revoked")


ADMIN = [memory, retry_dead, keys, create_key, revoke_key]
