"""Who is looking: the operator behind a session, checked against the key store on every request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from litestar import Request

from apps.console.container import ConsoleContainer
from apps.console.sessions import SESSION_COOKIE, Session
from domain.identity.principal import Principal
from domain.identity.scopes import Scope
from domain.kernel.errors import PermissionDenied
from domain.tools.permissions import Grant


@dataclass(frozen=True, slots=True)
class Operator:
    principal: Principal
    session: Session

    @property
    def microdao(self) -> str | None:
        """The one microDAO this operator may see; None: all of them."""
        return self.principal.microdao_id

    @property
    def is_admin(self) -> bool:
        # Administering is for keys of every microDAO (the domain never gives a scoped key 'admin').
        return Scope.ADMIN in self.principal.scopes and self.microdao is None

    @property
    def label(self) -> str:
        reach = f"microDAO {self.microdao}" if self.microdao else "all microDAOs"
        return f"key {self.principal.key_id} · {reach}{' · admin' if self.is_admin else ''}"

    def sees(self, microdao_id: str | None) -> bool:
        return self.microdao is None or microdao_id == self.microdao

    def confine(self, requested: str | None) -> str | None:
        """The microDAO a read is limited to: the operator's own, whatever was asked for."""
        return self.microdao or requested or None

    def require_admin(self) -> None:
        if not self.is_admin:
            raise PermissionDenied("this needs an admin key (one with the 'admin' scope, of every microDAO)")

    def grant_visible(self, grant: Grant, agents_here: set[str]) -> bool:
        return self.microdao is None or grant.microdao == self.microdao or (
            grant.microdao is None and grant.agent in agents_here)


def may_use_console(principal: Principal) -> bool:
    """Operator keys with usage:read (admin implies it); an agent's key is not an operator's."""
    return principal.is_operator and principal.may(Scope.USAGE_READ)


async def operator_of(request: Request, container: ConsoleContainer) -> Operator | None:
    session = container.sessions.read(request.cookies.get(SESSION_COOKIE))
    if session is None:
        return None
    record = await container.identity.store.key(session.key_id)
    if record is None or not record.is_valid_at(datetime.now(UTC)):
        return None  # revoked or expired since sign-in: the session ends with the key
    principal = record.principal()
    return Operator(principal, session) if may_use_console(principal) else None
