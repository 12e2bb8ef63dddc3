"""The Memory page (items per tier and microDAO, the indexing backlog, dead letters with a retry button) and
the Keys and agents page (list, create — the key shown once —, revoke)."""

from __future__ import annotations

from collections.abc import Sequence

from apps.console.html import csrf_field, e, table
from domain.identity.keys import AgentRecord, KeyRecord
from domain.memory.health import MemoryHealth


def memory_body(health: MemoryHealth, csrf: str, notice: str = "") -> str:
    items = [[e(t.microdao_id), e(t.tier), str(t.items)] for t in health.items]
    queue = [[e(q.model), str(q.pending), str(q.in_flight), str(q.dead), f"{q.oldest_pending_age_seconds:.0f}"]
             for q in health.queue]
    dead = [[str(d.job_id), e(d.microdao_id), e(d.item_id), e(d.model), str(d.attempts), e(d.error or ""),
             e(d.dead_at.strftime("%Y-%m-%d %H:%M:%S")),
             (f'<form method="post" action="/memory/dead/{d.job_id}/retry">{csrf_field(csrf)}'
             f'<button type="submit">Retry</button></form>')] for d in health.dead]
    said = f'<p class="ok" id="notice">{e(notice)}</p>' if notice else ""
    return (f'{said}<div class="card"><h2>Items per tier and microDAO</h2>'
            + table(["microDAO", "tier", "items"], items, numeric=(2,), table_id="memory-items",
                    total=["Total", "", str(sum(t.items for t in health.items))])
            + '</div><div class="card"><h2>Indexing backlog</h2>'
            + table(["embedding model", "pending", "in flight", "dead", "oldest pending (s)"], queue,
                    numeric=range(1, 5), table_id="memory-queue")
            + '</div><div class="card"><h2>Dead letters (newest first)</h2>'
            + table(["job", "microDAO", "item", "model", "attempts", "last error", "dead since (UTC)", ""], dead,
                    numeric=(0, 4), table_id="dead-letters") + "</div>")


def keys_body(agents: Sequence[AgentRecord], keys: Sequence[KeyRecord], csrf: str, admin: bool,
              issued: str | None = None, notice: str = "") -> str:
    agent_rows = [[e(a.agent_id), e(a.microdao_id), e(a.display_name or ""),
                   "disabled" if a.disabled_at else "active"] for a in agents]
    key_rows = []
    for k in keys:
        state = "revoked" if k.revoked_at else ("expires " + k.expires_at.isoformat() if k.expires_at else "active")
        action = (f'<form method="post" action="/keys/{e(k.key_id)}/revoke">{csrf_field(csrf)}'
                  f'<button class="danger" type="submit">Revoke</button></form>') if admin and not k.revoked_at else ""
        key_rows.append([f"<code>{e(k.key_id)}</code>", e(k.name), e(k.agent_id or "operator"), e(k.microdao_id or "all"),
                         e(", ".join(sorted(k.scopes))), e(k.created_at.strftime("%Y-%m-%d") if k.created_at else ""),
                         e(state), action])
    shown = (f'<div class="card"><h2>New key — shown once, copy it now</h2><code class="secret" id="new-key">'
             f'{e(issued)}</code></div>') if issued else ""
    said = f'<p class="ok" id="notice">{e(notice)}</p>' if notice else ""
    create = ('<div class="card"><h2>Create a key</h2><form class="filters" method="post" action="/keys">'
              f'{csrf_field(csrf)}<label>agent (blank: operator key)<input name="agent_id" size="18"></label>'
              '<label>microDAO (an operator key of one microDAO)<input name="microdao_id" size="16"></label>'
              '<label>scopes<input name="scopes" value="" placeholder="default for the kind" size="22"></label>'
              '<label>name<input name="name" size="12"></label><button type="submit">Create</button></form></div>'
              ) if admin else '<p class="muted">Creating and revoking keys needs an admin key.</p>'
    return (f'{said}{shown}{create}<div class="card"><h2>Agents</h2>'
            + table(["agent", "microDAO", "name", "state"], agent_rows, table_id="agents")
            + '</div><div class="card"><h2>API keys (only their ids: keys are never stored)</h2>'
            + table(["key id", "name", "agent", "microDAO", "scopes", "created", "state", ""], key_rows,
                    table_id="keys") + "</div>")
