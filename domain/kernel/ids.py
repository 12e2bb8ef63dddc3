"""Identifier shapes every service accepts, written once.

Subjects (agents, microDAOs, users of the platform, request ids, idempotency keys) are ours, so they are
plain: letters, digits and `._:-`. Channels and channel users are named by outside systems (a Telegram
chat, an e-mail address, a path), so their ids may also hold `@` and `/`.
"""

from __future__ import annotations

import re
from typing import Annotated

from msgspec import Meta

SUBJECT_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"
EXTERNAL_ID_PATTERN = r"^[A-Za-z0-9._:@/-]{1,128}$"
SUBJECT_ID = re.compile(SUBJECT_ID_PATTERN)

SubjectId = Annotated[str, Meta(pattern=SUBJECT_ID_PATTERN)]
ExternalId = Annotated[str, Meta(pattern=EXTERNAL_ID_PATTERN)]
# A scope left empty means "not given" (the memory API's documents may belong to no agent).
OptionalSubjectId = Annotated[str, Meta(pattern=r"^([A-Za-z0-9._:-]{1,128})?$")]
