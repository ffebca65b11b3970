"""The selection rules of DESIGN.md §4, one table row per rule (`responders.dispatch.rules`).

`assign_roles` is pure: it gets the candidates ranked by direct walking time (fastest
first), the AEDs usable now with their walk to the victim, and each candidate's walk to
each AED; it says who goes direct and who fetches which AED. Each row below gives those
times in seconds and the roles that come out, in rank order: "direct", or "via" and the
AED's name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pytest

from responders.dispatch.rules import (
    NEEDS_AED,
    QUALIFIED_FOR,
    Assignment,
    Candidate,
    RoleRules,
    UsableAed,
    assign_roles,
)

# The kinds of DESIGN.md §4, and the qualifications of migration 0001.
_KINDS = ("cardiac_arrest", "unconscious", "breathing", "bleeding", "other")
_QUALIFICATIONS = frozenset({"cpr_aed", "first_aid", "bhv", "nurse", "physician", "paramedic"})


@dataclass(frozen=True)
class Case:
    direct_s: tuple[float, ...]
    """Each candidate's walk to the victim, in rank order (fastest first)."""
    aeds: Mapping[str, float] = field(default_factory=dict)
    """Each usable AED's walk to the victim, by name, in the order dispatch found them."""
    to_aed_s: Mapping[tuple[int, str], float] = field(default_factory=dict)
    """(candidate's rank, AED's name) → that candidate's walk to that AED; absent: no route."""
    roles: tuple[str, ...] = ()
    """The expected roles, in rank order: "direct", or "via A" for a fetcher of AED A."""
    rules: RoleRules = field(default_factory=RoleRules)


# Defaults of RoleRules, as DESIGN.md §4 and the dispatch settings have them.
TARGET_S = 360.0
ALLOWANCE_S = 120.0
NO_SHARE = RoleRules(via_share=0.0)

CASES = {
    "with no candidates nobody is alerted": Case(direct_s=(), aeds={"A": 60}, roles=()),
    "the fastest responder goes direct even when an AED is on their way": Case(
        direct_s=(100,),
        aeds={"A": 10},
        to_aed_s={(0, "A"): 95},
        roles=("direct",),
    ),
    "with no AED in reach everyone goes direct": Case(
        direct_s=(100, 150, 200),
        roles=("direct", "direct", "direct"),
    ),
    "an AED a responder has no route to is not theirs to fetch": Case(
        direct_s=(100, 150),
        aeds={"A": 60},
        to_aed_s={},
        roles=("direct", "direct"),
    ),
    "an AED is fetched by the responder who brings it to the victim soonest": Case(
        direct_s=(100, 150, 200),
        aeds={"A": 60},
        # Through A: rank 1 arrives at 240 s, rank 2 at 220 s.
        to_aed_s={(1, "A"): 180, (2, "A"): 160},
        roles=("direct", "direct", "via A"),
        rules=NO_SHARE,
    ),
    "every usable AED gets a fetcher, even when no share of via runners is asked for": Case(
        direct_s=(100, 150, 200, 250),
        aeds={"A": 60, "B": 90},
        to_aed_s={(1, "A"): 100, (2, "B"): 120},
        roles=("direct", "via A", "via B", "direct"),
        rules=NO_SHARE,
    ),
    "a responder fetches one AED only: the next AED goes to the next soonest": Case(
        direct_s=(100, 150, 200),
        aeds={"A": 60, "B": 60},
        # Rank 1 is soonest through either AED; B falls to rank 2.
        to_aed_s={(1, "A"): 100, (1, "B"): 100, (2, "B"): 150},
        roles=("direct", "via A", "via B"),
        rules=NO_SHARE,
    ),
    "about two thirds go via an AED, the rest direct in rank order": Case(
        direct_s=(100, 110, 120, 130, 140, 150),
        aeds={"A": 60},
        to_aed_s={(i, "A"): 100 for i in range(6)},
        # round(2/3 * 6) = 4 via: the fetcher (rank 1, soonest on ties), then ranks 2-4.
        roles=("direct", "via A", "via A", "via A", "via A", "direct"),
    ),
    "once the via share is met the others go direct though an AED is on their way": Case(
        direct_s=(100, 110, 120),
        aeds={"A": 60},
        to_aed_s={(i, "A"): 100 for i in range(3)},
        rules=RoleRules(via_share=1 / 3),
        roles=("direct", "via A", "direct"),
    ),
    "runners beyond the fetchers take the AED that gets them to the victim soonest": Case(
        direct_s=(100, 110, 120, 130),
        aeds={"A": 60, "B": 30},
        to_aed_s={
            (1, "A"): 80,
            (2, "B"): 100,
            # Through A at 200 s, through B at 170 s.
            (3, "A"): 140,
            (3, "B"): 140,
        },
        roles=("direct", "via A", "via B", "via B"),
    ),
    "a detour of exactly the allowance is taken": Case(
        direct_s=(100, 150),
        aeds={"A": 60},
        # 210 + 60 = 270 s, 120 s more than going direct.
        to_aed_s={(1, "A"): 150 + ALLOWANCE_S - 60},
        roles=("direct", "via A"),
    ),
    "a detour beyond the allowance goes direct": Case(
        direct_s=(100, 150),
        aeds={"A": 60},
        to_aed_s={(1, "A"): 150 + ALLOWANCE_S - 60 + 1},
        roles=("direct", "direct"),
    ),
    "a via route arriving exactly at the target time is taken": Case(
        direct_s=(100, 300),
        aeds={"A": 60},
        to_aed_s={(1, "A"): TARGET_S - 60},
        roles=("direct", "via A"),
    ),
    "a via route arriving after the target time goes direct, even within the allowance": Case(
        direct_s=(100, 300),
        aeds={"A": 60},
        to_aed_s={(1, "A"): TARGET_S - 60 + 1},
        roles=("direct", "direct"),
    ),
    "a longer target lets a slower fetcher bring the AED": Case(
        direct_s=(100, 400),
        aeds={"A": 60},
        to_aed_s={(1, "A"): 400},
        rules=RoleRules(target_s=480.0),
        roles=("direct", "via A"),
    ),
    "a wider detour allowance lets a longer way round through the AED count": Case(
        direct_s=(100, 150),
        aeds={"A": 60},
        to_aed_s={(1, "A"): 240},
        rules=RoleRules(detour_allowance_s=180.0),
        roles=("direct", "via A"),
    ),
    "when two would bring an AED equally soon the higher-ranked one fetches it": Case(
        direct_s=(100, 150, 160),
        aeds={"A": 60},
        to_aed_s={(1, "A"): 150, (2, "A"): 150},
        rules=NO_SHARE,
        roles=("direct", "via A", "direct"),
    ),
    "when two AEDs are equally soon a runner takes the one found first": Case(
        direct_s=(100, 150, 160, 170),
        aeds={"A": 60, "B": 60},
        to_aed_s={(1, "A"): 100, (2, "B"): 100, (3, "A"): 100, (3, "B"): 100},
        roles=("direct", "via A", "via B", "via A"),
    ),
}


def _ranked(direct_s: tuple[float, ...]) -> list[tuple[Candidate, float]]:
    return [
        (
            Candidate(
                responder_id=rank + 1, lat=60.17, lon=24.94, straight_m=s, source="live", seq=0
            ),
            s,
        )
        for rank, s in enumerate(direct_s)
    ]


def _assign(case: Case) -> list[Assignment]:
    names = list(case.aeds)
    aeds = [
        UsableAed(id=j + 1, lat=60.17, lon=24.94, to_incident_s=s)
        for j, s in enumerate(case.aeds.values())
    ]
    to_aed_s = {(i, names.index(name)): s for (i, name), s in case.to_aed_s.items()}
    return assign_roles(_ranked(case.direct_s), aeds, to_aed_s, case.rules)


def _role(assignment: Assignment, names: list[str]) -> str:
    if assignment.aed is None:
        return assignment.role
    return f"via {names[assignment.aed.id - 1]}"


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_roles(case: Case) -> None:
    assignments = _assign(case)
    assert tuple(_role(a, list(case.aeds)) for a in assignments) == case.roles
    assert [a.candidate.responder_id for a in assignments] == list(range(1, len(case.direct_s) + 1))


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_arrival_is_the_direct_walk_or_the_walk_through_the_aed(case: Case) -> None:
    names = list(case.aeds)
    for rank, assignment in enumerate(_assign(case)):
        assert assignment.direct_s == case.direct_s[rank]
        if assignment.aed is None:
            assert assignment.arrival_s == assignment.direct_s
        else:
            name = names[assignment.aed.id - 1]
            assert assignment.arrival_s == case.to_aed_s[(rank, name)] + case.aeds[name]
            assert assignment.arrival_s <= case.rules.target_s
            assert assignment.arrival_s - assignment.direct_s <= case.rules.detour_allowance_s


def test_the_defaults_are_a_six_minute_target_a_two_minute_detour_and_two_thirds_via() -> None:
    assert RoleRules() == RoleRules(target_s=TARGET_S, detour_allowance_s=ALLOWANCE_S)
    assert (TARGET_S, ALLOWANCE_S, RoleRules().via_share) == (360.0, 120.0, 2 / 3)


AED_KINDS = {
    "a cardiac arrest gains from an AED": ("cardiac_arrest", True),
    "an unconscious victim gains from an AED": ("unconscious", True),
    "a breathing problem gains from an AED": ("breathing", True),
    "a bleeding does not bring an AED": ("bleeding", False),
    "other incidents do not bring an AED": ("other", False),
}


@pytest.mark.parametrize(("kind", "needs_aed"), AED_KINDS.values(), ids=AED_KINDS.keys())
def test_kinds_that_send_runners_for_an_aed(kind: str, needs_aed: bool) -> None:
    assert (kind in NEEDS_AED) is needs_aed


QUALIFIED = {
    "any qualification answers a cardiac arrest": ("cardiac_arrest", _QUALIFICATIONS),
    "any qualification answers an unconscious victim": ("unconscious", _QUALIFICATIONS),
    "any qualification answers a breathing problem": ("breathing", _QUALIFICATIONS),
    "a CPR/AED course alone does not answer a bleeding": (
        "bleeding",
        _QUALIFICATIONS - {"cpr_aed"},
    ),
    "a CPR/AED course alone does not answer other incidents": (
        "other",
        _QUALIFICATIONS - {"cpr_aed"},
    ),
}


@pytest.mark.parametrize(("kind", "qualifications"), QUALIFIED.values(), ids=QUALIFIED.keys())
def test_qualifications_that_answer_each_kind(kind: str, qualifications: frozenset[str]) -> None:
    assert QUALIFIED_FOR[kind] == qualifications


def test_every_incident_kind_has_its_qualifications() -> None:
    assert set(QUALIFIED_FOR) == set(_KINDS)
    assert NEEDS_AED.issubset(_KINDS)
