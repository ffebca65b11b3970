"""Pure selection rules: qualifications per incident kind, and direct / via-AED roles.

Kept free of I/O so the rules can be read, and tested, on their own (DESIGN.md §4).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "QUALIFIED_FOR",
    "Assignment",
    "Candidate",
    "RoleRules",
    "UsableAed",
    "assign_roles",
]

_LIFE_SUPPORT = frozenset({"cpr_aed", "first_aid", "bhv", "nurse", "physician", "paramedic"})
_FIRST_AID = _LIFE_SUPPORT - {"cpr_aed"}

QUALIFIED_FOR: Mapping[str, frozenset[str]] = {
    "cardiac_arrest": _LIFE_SUPPORT,
    "unconscious": _LIFE_SUPPORT,
    "breathing": _LIFE_SUPPORT,
    # A CPR/AED course alone does not teach wound care.
    "bleeding": _FIRST_AID,
    "other": _FIRST_AID,
}

# Only these kinds gain from an AED on the way.
NEEDS_AED = frozenset({"cardiac_arrest", "unconscious", "breathing"})


@dataclass(frozen=True, slots=True)
class Candidate:
    responder_id: int
    lat: float
    lon: float
    straight_m: float
    source: str
    # The volunteer's `alert_seq` when read: their alert is written only if it is unchanged.
    seq: int


@dataclass(frozen=True, slots=True)
class UsableAed:
    id: int
    lat: float
    lon: float
    to_incident_s: float


@dataclass(frozen=True, slots=True)
class Assignment:
    candidate: Candidate
    direct_s: float
    role: Literal["direct", "via_aed"]
    aed: UsableAed | None
    arrival_s: float


@dataclass(frozen=True, slots=True)
class RoleRules:
    target_s: float = 360.0
    detour_allowance_s: float = 120.0
    via_share: float = 2 / 3


def assign_roles(
    ranked: Sequence[tuple[Candidate, float]],
    aeds: Sequence[UsableAed],
    to_aed_s: Mapping[tuple[int, int], float],
    rules: RoleRules,
) -> list[Assignment]:
    """Roles for candidates ranked by direct walking time (fastest first).

    `to_aed_s[(i, j)]` is candidate i's walking time to AED j. The fastest always goes
    direct; each AED then gets the fetcher who brings it soonest; the rest are split so
    that about `via_share` go via an AED, each only where the detour is allowed.
    """
    via = {i: _best_aed(i, direct, aeds, to_aed_s, rules) for i, (_, direct) in enumerate(ranked)}
    roles: dict[int, UsableAed | None] = {0: None} if ranked else {}
    for j, aed in enumerate(aeds):
        fetcher = _fetcher(j, ranked, aeds, to_aed_s, rules, taken=roles)
        if fetcher is not None:
            roles[fetcher] = aed
    wanted_via = round(rules.via_share * len(ranked))
    for i in range(len(ranked)):
        if i not in roles:
            use_aed = via[i] is not None and _via_count(roles) < wanted_via
            roles[i] = via[i] if use_aed else None
    return [_assignment(ranked[i], roles[i], to_aed_s, i, aeds) for i in range(len(ranked))]


def _via_time(
    i: int, j: int, aeds: Sequence[UsableAed], to_aed_s: Mapping[tuple[int, int], float]
) -> float | None:
    to_aed = to_aed_s.get((i, j))
    return None if to_aed is None else to_aed + aeds[j].to_incident_s


def _feasible(total: float | None, direct: float, rules: RoleRules) -> bool:
    return (
        total is not None and total <= rules.target_s and total - direct <= rules.detour_allowance_s
    )


def _best_aed(
    i: int,
    direct: float,
    aeds: Sequence[UsableAed],
    to_aed_s: Mapping[tuple[int, int], float],
    rules: RoleRules,
) -> UsableAed | None:
    options = [
        (t, j)
        for j in range(len(aeds))
        if _feasible(t := _via_time(i, j, aeds, to_aed_s), direct, rules) and t is not None
    ]
    return aeds[min(options)[1]] if options else None


def _fetcher(
    j: int,
    ranked: Sequence[tuple[Candidate, float]],
    aeds: Sequence[UsableAed],
    to_aed_s: Mapping[tuple[int, int], float],
    rules: RoleRules,
    taken: Mapping[int, UsableAed | None],
) -> int | None:
    options = [
        (t, i)
        for i, (_, direct) in enumerate(ranked)
        if i not in taken
        and _feasible(t := _via_time(i, j, aeds, to_aed_s), direct, rules)
        and t is not None
    ]
    return min(options)[1] if options else None


def _via_count(roles: Mapping[int, UsableAed | None]) -> int:
    return sum(aed is not None for aed in roles.values())


def _assignment(
    entry: tuple[Candidate, float],
    aed: UsableAed | None,
    to_aed_s: Mapping[tuple[int, int], float],
    i: int,
    aeds: Sequence[UsableAed],
) -> Assignment:
    candidate, direct = entry
    if aed is None:
        return Assignment(candidate, direct, "direct", None, direct)
    arrival = _via_time(i, aeds.index(aed), aeds, to_aed_s)
    assert arrival is not None
    return Assignment(candidate, direct, "via_aed", aed, arrival)
