"""The proxy's YAML is validated at start-up, and every error names the offending key."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.llm_proxy.settings import load_proxy_settings
from infra.platform.config_files import REPO_CONFIG_DIR, ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "llm_proxy.yaml"
    path.write_text(text)
    return path


def test_the_shipped_config_is_valid_and_routes_stub_to_the_stub_provider() -> None:
    config = load_proxy_settings(REPO_CONFIG_DIR / "llm_proxy.yaml")
    assert config.providers[config.models["stub"].targets[0].provider].kind == "stub"
    assert config.budgets.agents["agent:sofia"] > 0


def test_the_shipped_config_caps_max_tokens_for_every_agent() -> None:
    config = load_proxy_settings(REPO_CONFIG_DIR / "llm_proxy.yaml")
    assert config.limits.default.max_tokens is not None and config.limits.default.max_tokens >= config.default_max_tokens
    assert all(limit.max_tokens for limit in config.limits.agents.values())


@pytest.mark.parametrize("text, key", [
    ("providers: {s: {kind: stub}}\nmodels: {m: {targets: [{provider: nope, model: x}]}}", "$.models.m.targets[0].provider"),
    ("providers: {s: {kind: warp}}\nmodels: {}", "$.providers.s.kind"),
    ("providers: {s: {kind: stub}}\nmodels: {m: {targets: []}}", "$.models.m.targets"),
    ("providers: {s: {kind: stub}}\nmodels: {}\nlimits: {default: {requests_per_minute: 0}}", "$.limits.default"),
    ("providers: {s: {kind: stub}}\nmodels: {}\nlimits: {agents: {'agent:x': {tokens_per_minute: 0}}}",
     "$.limits.agents['agent:x'].tokens_per_minute"),
    ("providers: {s: {kind: stub}}\nmodels: {}\nprices: {m: {input_per_1m: 1}}", "$.prices.m"),
    ("providers: {s: {kind: stub, colour: red}}\nmodels: {}", "$.providers.s"),
    ("providers: {s: {kind: stub}}\nmodels: {}\nlimits: {default: {max_tokens: 0}}", "$.limits.default.max_tokens"),
    ("providers: {s: {kind: stub}}\nmodels: {}\nembeddings: {e: {targets: [{provider: s, model: x}]}}",
     "$.embeddings.e.targets[0].provider"),
    ("providers: {m: {kind: minilm}}\nmodels: {c: {targets: [{provider: m, model: x}]}}", "$.models.c.targets[0]"),
    ("providers: {m: {kind: minilm}}\nmodels: {}\nembeddings: {e: {targets: [{provider: nope, model: x}]}}",
     "$.embeddings.e.targets[0].provider"),
    (("providers: {s: {kind: stub}, m: {kind: minilm}}\nmodels: {x: {targets: [{provider: s, model: a}]}}\n"
      "embeddings: {x: {targets: [{provider: m, model: b}]}}"), "$.embeddings.x"),
    ("providers: {s: {kind: stub, unsupported_params: ignore}}\nmodels: {}", "$.providers.s.unsupported_params"),
])
def test_a_bad_config_fails_with_the_key_path(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_proxy_settings(write(tmp_path, text))
    assert key in str(caught.value)
    assert "llm_proxy.yaml" in str(caught.value)


def test_missing_and_unparseable_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_proxy_settings(tmp_path / "absent.yaml")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_proxy_settings(write(tmp_path, "providers: [unclosed"))
