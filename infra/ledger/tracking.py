"""Where each follower of the ledger has got to: one row per follower in `usage_projection_tracking`
(application name -> the last notification id it handled), the tracking table of eventsourcing's
ProjectionRunner. The usage projection and the broker export keep their positions here.

A follower claims its row `FOR UPDATE SKIP LOCKED` in the transaction that handles a batch: several
processes may run the same follower, exactly one advances at a time, the others find the row busy and
wait for the next round. The ledger serialises inserts (eventsourcing locks its table), so notification
ids become visible in order and a follower never skips one.
"""

from __future__ import annotations

from typing import Any


def claim(curs: Any, name: str) -> int | None:
    """The follower's position, its row locked until the transaction ends; None while another holds it."""
    curs.execute("INSERT INTO usage_projection_tracking (application_name, notification_id) VALUES (%s, 0) "
                 "ON CONFLICT (application_name) DO NOTHING", (name,))
    curs.execute("SELECT notification_id FROM usage_projection_tracking WHERE application_name = %s "
                 "FOR UPDATE SKIP LOCKED", (name,))
    row = curs.fetchone()
    return None if row is None else int(row["notification_id"])


def advance(curs: Any, name: str, position: int) -> None:
    curs.execute("UPDATE usage_projection_tracking SET notification_id = %s WHERE application_name = %s",
                 (position, name))


def position_of(curs: Any, name: str) -> int:
    curs.execute("SELECT notification_id FROM usage_projection_tracking WHERE application_name = %s", (name,))
    row = curs.fetchone()
    return int(row["notification_id"]) if row else 0
