"""The model cards of /v1/models: every logical chat and embeddings model, and whether it can answer now."""

from __future__ import annotations

from typing import Literal

from apps.llm_proxy.container import ProxyContainer
from apps.llm_proxy.schemas import Availability, ModelCard, TargetStatus
from domain.llm.health import TargetHealth
from domain.llm.policies import Router, Target


def model_cards(container: ProxyContainer) -> list[ModelCard]:
    cards = [_card(container, name, "chat", container.gateway.router) for name in container.gateway.router.models]
    cards += [_card(container, name, "embeddings", container.embeddings.router)
              for name in container.embeddings.router.models]
    return sorted(cards, key=lambda card: card.id)


def model_card(container: ProxyContainer, name: str) -> ModelCard | None:
    if name in container.gateway.router.models:
        return _card(container, name, "chat", container.gateway.router)
    if name in container.embeddings.router.models:
        return _card(container, name, "embeddings", container.embeddings.router)
    return None


def _card(container: ProxyContainer, name: str, kind: Literal["chat", "embeddings"], router: Router) -> ModelCard:
    targets = router.targets_for(name)
    statuses = [_status(target, container.configured.get(target.provider, True), container.gateway.health)
                for target in targets]
    answerable = any(status.configured and status.last_result != "failed" for status in statuses)
    return ModelCard(name, Availability(kind, answerable, statuses))


def _status(target: Target, configured: bool, health: TargetHealth) -> TargetStatus:
    last = health.last(target.provider, target.model)
    if last is None:
        return TargetStatus(target.provider, target.model, configured, "unknown")
    return TargetStatus(target.provider, target.model, configured, "ok" if last.ok else "failed", last.error,
                        int(last.at.timestamp()))
