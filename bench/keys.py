"""The credential a bench's load carries: a real key of one agent, issued in the bench database."""

from __future__ import annotations


async def bench_key(url: str, agent_id: str, microdao_id: str) -> str:
    from apps.llm_proxy.local_identity import identity_admin
    from domain.identity.scopes import AGENT_SCOPES

    async with identity_admin(url) as admin:
        await admin.register_agent(agent_id, microdao_id, "bench")
        return (await admin.issue_key(agent_id, AGENT_SCOPES, "bench", name="bench")).key
