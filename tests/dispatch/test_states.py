"""responders.states: the one definition of the incident and alert states, read as the rules
of DESIGN.md §4, and pinned to what the migrated database and the SQL hold."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from responders import states
from responders.dispatch import store
from responders.dispatch import store as dispatch_store
from responders.errors import IllegalTransition
from responders.privacy import store as privacy_store
from responders.states import (
    BUSY,
    EXPIRABLE,
    OPEN,
    AlertAction,
    AlertStatus,
    IncidentStatus,
    answer,
)

# --- the alert lifecycle, one row per action, one column per state the alert is in ----------
# The cell is the state the alert goes to (its first letters: `del`ivered, `acc`epted,
# `dec`lined, `arr`ived), `=` when the answer changes nothing (repeated, or a receipt after
# the answer), `x` when it is refused.
_COLUMNS = list(AlertStatus)
_NEXT = {"del": "delivered", "acc": "accepted", "dec": "declined", "arr": "arrived"}
_ON_AN_ACTIVE_INCIDENT = {
    #            queued sent delivered accepted declined expired arrived failed stood_down
    "delivered": "del   del  =         =        =        =       =       x      x",
    "accept":    "acc   acc  acc       =        x        acc     x       acc    x",
    "decline":   "dec   dec  dec       dec      =        dec     x       dec    x",
    "arrived":   "x     x    x         arr      x        x       =       x      x",
}  # fmt: skip
# Before the incident is confirmed, or once it is over, nobody can set out or arrive; a
# receipt or a "no" is still recorded.
_ON_AN_INCIDENT_NOT_ACTIVE = {
    #            queued sent delivered accepted declined expired arrived failed stood_down
    "delivered": "del   del  =         =        =        =       =       x      x",
    "accept":    "x     x    x         =        x        x       x       x      x",
    "decline":   "dec   dec  dec       dec      =        dec     x       dec    x",
    "arrived":   "x     x    x         x        x        x       =       x      x",
}  # fmt: skip


def _cases(incident: IncidentStatus, table: dict[str, str]) -> list[object]:
    return [
        pytest.param(
            AlertAction(action),
            alert,
            incident,
            _NEXT.get(cell, cell),
            id=f"{action}-{alert}-{incident}",
        )
        for action, row in table.items()
        for alert, cell in zip(_COLUMNS, row.split(), strict=True)
    ]


@pytest.mark.parametrize(
    ("action", "alert", "incident", "want"),
    _cases(IncidentStatus.ACTIVE, _ON_AN_ACTIVE_INCIDENT)
    + _cases(IncidentStatus.TRIAGE, _ON_AN_INCIDENT_NOT_ACTIVE)
    + _cases(IncidentStatus.CLOSED, _ON_AN_INCIDENT_NOT_ACTIVE)
    + _cases(IncidentStatus.CANCELLED, _ON_AN_INCIDENT_NOT_ACTIVE),
)
def test_an_alert_action_goes_where_the_table_says(
    action: AlertAction, alert: AlertStatus, incident: IncidentStatus, want: str
) -> None:
    if want == "x":
        with pytest.raises(IllegalTransition) as refused:
            answer(action, alert, incident)
        assert refused.value.extra["state"] == alert
    elif want == "=":
        assert answer(action, alert, incident) is None
    else:
        assert answer(action, alert, incident) == AlertStatus(want)


def test_a_refusal_because_of_the_incident_says_the_incident_state() -> None:
    with pytest.raises(IllegalTransition) as refused:
        answer(AlertAction.ACCEPT, AlertStatus.QUEUED, IncidentStatus.CANCELLED)
    assert refused.value.extra == {"state": "queued", "incident_state": "cancelled"}
    assert refused.value.detail == "the incident is cancelled"


def test_a_refusal_because_of_the_alert_names_the_action() -> None:
    with pytest.raises(IllegalTransition) as refused:
        answer(AlertAction.DELIVERED, AlertStatus.STOOD_DOWN, IncidentStatus.ACTIVE)
    assert refused.value.detail == "cannot confirm delivery of an alert that is stood_down"


# --- the named sets, as DESIGN.md §4 words them ---------------------------------------------
def test_the_named_sets_are_the_design_rules() -> None:
    assert {*BUSY} == {"queued", "sent", "delivered", "accepted", "arrived"}
    assert {*OPEN} == {"triage", "active"}
    assert {*states.ENDED} == {"closed", "cancelled"}
    # Closing reaches everyone who has not declined; an arrival stays an arrival.
    assert {*states.NEEDS_STAND_DOWN} == {"queued", "sent", "delivered", "accepted", "expired"}
    # "Enough have accepted" leaves those on their way alone.
    assert states.NEEDS_STAND_DOWN - {AlertStatus.ACCEPTED} == states.NO_LONGER_NEEDED
    assert EXPIRABLE < BUSY
    assert states.INCIDENT_ENDINGS[IncidentStatus.CLOSED] == {IncidentStatus.ACTIVE}
    assert states.INCIDENT_ENDINGS[IncidentStatus.CANCELLED] == OPEN


def test_sql_list_is_in_lifecycle_order_whatever_the_set() -> None:
    assert states.sql_list(BUSY) == "'queued', 'sent', 'delivered', 'accepted', 'arrived'"
    assert states.sql_list(OPEN) == "'triage', 'active'"


def test_the_pages_are_served_the_same_sets() -> None:
    served = states.as_json()
    assert served["incident"] == {
        "all": ["triage", "active", "closed", "cancelled"],
        "open": ["triage", "active"],
        "ended": ["closed", "cancelled"],
    }
    alert = served["alert"]
    assert alert["busy"] == ["queued", "sent", "delivered", "accepted", "arrived"]
    assert alert["answerable"] == ["queued", "sent", "delivered", "expired", "failed"]
    assert alert["settled"] == ["declined", "expired", "failed", "stood_down"]


# --- what is written down elsewhere must be the same sets ------------------------------------
def _quoted(sql: str) -> set[str]:
    return set(re.findall(r"'([a-z_]+)'", sql))


_PREDICATE = text(
    """
    SELECT pg_get_expr(x.indpred, x.indrelid)
    FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid
    WHERE c.relname = :name
    """
)


@pytest.mark.parametrize(
    ("index", "states_set"),
    [
        # The candidate query's busy probe can read this index only while its statuses
        # and the index's predicate are the same list.
        ("alerts_busy_idx", BUSY),
        ("alerts_pending_idx", EXPIRABLE),
        ("incidents_open_idx", OPEN),
        ("incidents_unpurged_idx", states.ENDED),
    ],
)
async def test_a_partial_index_predicate_is_its_set(
    engine: AsyncEngine, index: str, states_set: frozenset[str]
) -> None:
    async with engine.connect() as conn:
        predicate = (await conn.execute(_PREDICATE, {"name": index})).scalar_one()
    assert _quoted(predicate) == set(states_set), predicate


def test_the_candidate_query_probes_busy_on_open_incidents() -> None:
    busy = re.search(r"a\.status IN \(([^)]*)\)", store._LIVE_CANDIDATES)
    open_ = re.search(r"i\.status IN \(([^)]*)\)", store._LIVE_CANDIDATES)
    assert busy is not None and open_ is not None
    assert _quoted(busy.group(1)) == set(BUSY)
    assert _quoted(open_.group(1)) == set(OPEN)
    assert store._PLACED_CANDIDATES.count(busy.group(0)) == 1


@pytest.mark.parametrize(
    ("statement", "states_set"),
    [
        # Each reads its partial index only while its literal list is the index's predicate.
        (dispatch_store._EXPIRE_UNANSWERED_ALERTS, EXPIRABLE),
        (privacy_store._PURGE_ENDED_INCIDENTS, states.ENDED),
        (dispatch_store._OLD_OPEN_INCIDENTS, OPEN),
    ],
    ids=["expiry", "retention purge", "demo upkeep"],
)
def test_a_literal_state_list_is_its_set(statement: str, states_set: frozenset[str]) -> None:
    listed = re.search(r"status IN \(([^)]*)\)", statement)
    assert listed is not None
    assert _quoted(listed.group(1)) == set(states_set)


# --- what the pages and the API's clients are told -------------------------------------------
async def test_the_pages_read_the_states_from_the_server(client: httpx.AsyncClient) -> None:
    response = await client.get("/states")
    assert response.status_code == 200
    assert response.json() == states.as_json()


async def test_the_openapi_enums_are_the_same_strings(app: FastAPI) -> None:
    schemas = app.openapi()["components"]["schemas"]
    assert schemas["AlertStatus"]["enum"] == [
        "queued", "sent", "delivered", "accepted", "declined",
        "expired", "arrived", "failed", "stood_down",
    ]  # fmt: skip
    assert schemas["IncidentStatus"]["enum"] == ["triage", "active", "closed", "cancelled"]
