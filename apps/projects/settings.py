"""The projects service's settings: defaults with the environment laid over them (infra.platform.settings)."""

from __future__ import annotations

import msgspec

from infra.platform.settings import load_settings


class ProjectsSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    pool_size: int = 10


def load_projects_settings() -> ProjectsSettings:
    return load_settings(ProjectsSettings, "projects", None)
