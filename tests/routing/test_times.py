"""One-to-many walking times: one bounded search, checked against a textbook Dijkstra."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from routing import GraphRouter, Point, PointNotOnNetwork, Router, Unreachable

Reference = Callable[[GraphRouter, Point, Point], float]  # reference_seconds


def _near_network(router: GraphRouter, rng: np.random.Generator, n: int) -> list[Point]:
    """Random points within ~40 m of random shape points: where people are."""
    g = router.graph
    idx = rng.integers(0, len(g.shape_lat), n)
    return [
        Point(
            float(g.shape_lat[i] + rng.normal(0, 2e-4)), float(g.shape_lon[i] + rng.normal(0, 4e-4))
        )
        for i in idx
    ]


def test_graph_router_is_a_router(helsinki: GraphRouter) -> None:
    assert isinstance(helsinki, Router)


def test_times_equal_an_independent_dijkstra(
    helsinki: GraphRouter, reference_seconds: Reference
) -> None:

    rng = np.random.default_rng(42)
    targets = [p for p in _near_network(helsinki, rng, 40) if helsinki.covers(p)][:10]
    pairs = 0
    for target in targets:
        sources = [p for p in _near_network(helsinki, rng, 8) if helsinki.covers(p)][:5]
        got = helsinki.times_to(target, sources, max_seconds=1e6)
        for source, seconds in zip(sources, got, strict=True):
            expected = reference_seconds(helsinki, source, target)
            assert seconds is not None
            assert seconds == pytest.approx(expected, abs=1e-6)
            pairs += 1
    assert pairs >= 45


def test_time_equals_the_route_duration(helsinki: GraphRouter) -> None:
    rng = np.random.default_rng(5)
    a, b = [p for p in _near_network(helsinki, rng, 10) if helsinki.covers(p)][:2]
    (seconds,) = helsinki.times_to(b, [a], max_seconds=1e6)
    assert seconds == pytest.approx(helsinki.route(a, b).duration_s, abs=1e-6)


def test_sources_beyond_the_bound_are_reported_not_dropped(helsinki: GraphRouter) -> None:
    rng = np.random.default_rng(3)
    target, *sources = [p for p in _near_network(helsinki, rng, 60) if helsinki.covers(p)]
    full = helsinki.times_to(target, sources, max_seconds=1e6)
    bound = float(np.median([t for t in full if t is not None]))
    reach = helsinki.reach(target, sources, max_seconds=bound)
    assert len(reach.seconds) == len(sources)
    for exact, got, why in zip(full, reach.seconds, reach.reasons, strict=True):
        assert exact is not None
        if exact <= bound:
            assert got == pytest.approx(exact, abs=1e-9) and why is None
        else:
            assert got is None and why is Unreachable.BEYOND_LIMIT


def test_sources_off_the_network_do_not_fail_the_call(helsinki: GraphRouter) -> None:
    target = Point(60.1699, 24.9384)
    sources = [Point(60.1655, 24.9466), Point(60.10, 24.95), Point(60.1690, 24.9400)]
    reach = helsinki.reach(target, sources, max_seconds=3600)
    assert reach.seconds[1] is None and reach.reasons[1] is Unreachable.OFF_NETWORK
    assert reach.seconds[0] is not None and reach.seconds[2] is not None
    assert helsinki.times_to(target, [], 600) == []


def test_walks_searched_ahead_equal_times_to_per_target(helsinki: GraphRouter) -> None:
    rng = np.random.default_rng(9)
    points = [p for p in _near_network(helsinki, rng, 40) if helsinki.covers(p)]
    targets, sources = points[:3], [*points[3:], points[0], Point(60.10, 24.95)]
    walks = helsinki.walks_to(targets, max_seconds=600)
    each = walks.times_from(sources)
    assert each == [helsinki.times_to(t, sources, max_seconds=600) for t in targets]
    assert each[0][-2] == 0.0  # the first target is also a source: it walks nowhere
    assert all(row[-1] is None for row in each)  # off the network
    assert sum(t is not None for row in each for t in row) > len(sources)
    assert walks.times_from([]) == [[], [], []]
    assert helsinki.walks_to([], 600).times_from(sources) == []
    with pytest.raises(PointNotOnNetwork):
        helsinki.walks_to([targets[0], Point(60.10, 24.95)], 600)


def test_target_off_the_network_raises(helsinki: GraphRouter) -> None:
    with pytest.raises(PointNotOnNetwork):
        helsinki.times_to(Point(60.10, 24.95), [Point(60.1699, 24.9384)], 600)


def test_target_itself_as_source_walks_nowhere(helsinki: GraphRouter) -> None:
    p = Point(60.1699, 24.9384)
    assert helsinki.snap(p).distance_m > 0
    assert helsinki.times_to(p, [p], 600) == [0.0]
    assert helsinki.route(p, p).duration_s == 0.0
    # A neighbour a metre away still walks out to the street and back.
    (near,) = helsinki.times_to(p, [Point(p.lat + 1e-5, p.lon)], 600)
    assert near is not None and near > 0


def test_faster_speed_scales_times(helsinki: GraphRouter) -> None:
    fast = GraphRouter(helsinki.graph, speed_mps=4.0)
    a, b = Point(60.1699, 24.9384), Point(60.1655, 24.9466)
    (slow_s,) = helsinki.times_to(b, [a], 3600)
    (fast_s,) = fast.times_to(b, [a], 3600)
    assert slow_s is not None and fast_s is not None
    assert fast_s == pytest.approx(slow_s / 2)
    assert math.isclose(fast.speed_mps, 4.0)


def test_one_search_serves_every_source(
    helsinki: GraphRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    from routing import _search

    calls: list[float] = []
    real = _search.dijkstra

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(float(kwargs["limit"]))
        return real(*args, **kwargs)

    monkeypatch.setattr(_search, "dijkstra", counting)
    rng = np.random.default_rng(9)
    target, *sources = [p for p in _near_network(helsinki, rng, 80) if helsinki.covers(p)]
    helsinki.times_to(target, sources, max_seconds=600)
    assert len(calls) == 1
    assert calls[0] <= 600  # bounded: the search stops at max_seconds
