"""Stored events are forever: events written while the ledger lived in the module `domain.ledger` still load."""

from __future__ import annotations

import uuid
from decimal import Decimal

import psycopg

from domain.ledger.application import UsageLedger
from domain.ledger.events import LedgerEntry, LlmCallCompleted, new_entry
from domain.ledger.projections import usage_of
from infra.ledger.event_store import open_ledger


def test_an_llm_call_stored_under_the_old_module_topic_loads_and_projects(
    database_url: str, ledger: UsageLedger,
) -> None:
    agent = f"agent:old-topic-{uuid.uuid4().hex[:8]}"
    entry = new_entry(LlmCallCompleted, request_id="req_old", agent_id=agent, microdao_id="microdao:7",
                      logical_model="gpt", provider="openai", physical_model="gpt-4.1-mini", prompt_tokens=11,
                      completion_tokens=7, latency_ms=12.5, cost_usd=Decimal("0.0001"), cost_known=True,
                      status="completed", error_type=None, stream=False, fallbacks=0)
    ledger.record([entry])
    with psycopg.connect(database_url) as connection:  # rewrite the row as an older release wrote it
        connection.execute(
            "UPDATE usageledger_events SET topic = 'domain.ledger:LlmCallCompleted', "
            "state = convert_to(replace(convert_from(state, 'UTF8'), 'domain.ledger.events:', 'domain.ledger:'), "
            "'UTF8') WHERE originator_id = %s", (entry.id,))
        assert connection.execute("SELECT topic FROM usageledger_events WHERE originator_id = %s",
                                  (entry.id,)).fetchone() == ("domain.ledger:LlmCallCompleted",)
    reopened = open_ledger(database_url)
    try:
        [notification] = [n for n in reopened.recorder.select_notifications(start=1, limit=100_000)
                          if n.originator_id == entry.id]
        event = reopened.mapper.to_domain_event(notification)
        loaded: LedgerEntry = reopened.repository.get(entry.id)
    finally:
        reopened.close()
    assert isinstance(event, LlmCallCompleted) and event.agent_id == agent
    assert loaded.id == entry.id
    key, counters = usage_of(event) or (None, None)
    assert key is not None and counters is not None and counters.prompt_tokens == 11
