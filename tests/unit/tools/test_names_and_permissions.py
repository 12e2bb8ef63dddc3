"""Tool ids and their OpenAI function names, and the permission grants that decide who may call what."""

from __future__ import annotations

from domain.kernel.tool_names import mapping_problem, openai_name, tool_id_of
from domain.tools.model import openai_tool
from domain.tools.permissions import Grant, PermissionPolicy
from tests.unit.tools.sample_tools import SOFIA, TASKS


def test_openai_names_map_back_to_the_tool_id() -> None:
    for tool_id in ("projects.list", "task.create", "time.now", "a-b.c_d", "plain"):
        assert mapping_problem(tool_id) is None
        assert "." not in openai_name(tool_id)
        assert tool_id_of(openai_name(tool_id)) == tool_id
    assert openai_tool(TASKS)["function"]["name"] == "tasks__list"


def test_ids_whose_openai_name_would_be_ambiguous_are_refused() -> None:
    for tool_id in ("a__b", "a_.b", "a._b", "has space", "x" * 65):
        assert mapping_problem(tool_id) is not None


def test_globs_allow_by_prefix_and_nothing_else() -> None:
    policy = PermissionPolicy([SOFIA])
    assert policy.allows("agent:sofia", "microdao:7", "tasks.list")
    assert policy.allows("agent:sofia", "microdao:7", "task.create")
    assert not policy.allows("agent:sofia", "microdao:7", "projects.list")
    assert not policy.allows("agent:sofia", "microdao:7", "tasksXlist")  # the dot is literal


def test_a_grant_for_one_microdao_does_not_follow_the_agent_elsewhere() -> None:
    policy = PermissionPolicy([SOFIA, Grant(("time.*",), agent="agent:sofia")])
    assert not policy.allows("agent:sofia", "microdao:12", "tasks.list")
    assert not policy.allows("agent:sofia", None, "tasks.list")
    assert policy.allows("agent:sofia", None, "time.now")
    assert not policy.allows("agent:oleh", "microdao:7", "tasks.list")


def test_a_microdao_wide_grant_covers_every_agent_of_it_and_a_subjectless_grant_covers_nobody() -> None:
    policy = PermissionPolicy([Grant(("time.*",), microdao="microdao:7"), Grant(("math.*",))])
    assert policy.allows("agent:oleh", "microdao:7", "time.now")
    assert not policy.allows("agent:oleh", "microdao:8", "time.now")
    assert not policy.allows("agent:oleh", "microdao:7", "math.eval")
