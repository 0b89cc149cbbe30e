"""The revisit policy, as a pure function of an article's history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from archiver.revisit import RevisitConfig, config_from_settings, next_visit

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)
M = timedelta(minutes=1)


def test_a_fresh_article_is_watched_closely():
    nxt = next_visit(T0, [(T0 + 5 * M, True)])
    assert nxt == T0 + 20 * M


def test_intervals_grow_with_quiet_time():
    steps = []
    visits = [(T0, True)]
    while (nxt := next_visit(T0, visits)) is not None:
        assert nxt > visits[-1][0]
        steps.append(nxt - visits[-1][0])
        visits.append((nxt, False))
    assert steps == sorted(steps)
    assert steps[0] == 15 * M and steps[-1] == timedelta(days=7)
    # Followed for 60 quiet days, for a small fraction of NewsDiffs's ~170 fetches in 45.
    assert visits[-1][0] - T0 >= timedelta(days=60)
    assert len(visits) < 40


def test_a_change_brings_the_article_back_to_close_watch():
    visits = [(T0, True), (T0 + 2 * timedelta(days=1), False)]
    quiet = next_visit(T0, visits)
    assert quiet is not None and quiet - visits[-1][0] > 12 * H
    visits.append((T0 + 3 * timedelta(days=1), True))
    assert next_visit(T0, visits) == visits[-1][0] + 15 * M


def test_a_busy_article_is_checked_at_least_every_half_hour():
    visits = [(T0, True)] + [(T0 + i * H, True) for i in (1, 2)] + [(T0 + 6 * H, False)]
    quiet_since_change = next_visit(T0, visits[:1] + [(T0 + 6 * H, False)])
    busy = next_visit(T0, visits)
    assert quiet_since_change is not None and busy is not None
    assert busy - visits[-1][0] == 30 * M < quiet_since_change - visits[-1][0]


def test_an_article_found_late_is_not_fresh():
    found = T0 + 5 * timedelta(days=1)
    nxt = next_visit(T0, [(found, True)])
    assert nxt is not None and nxt - found > timedelta(days=1)
    # Found a year after publication: still checked weekly for a while, then dropped.
    old = T0 + timedelta(days=365)
    assert next_visit(T0, [(old, True)]) == old + timedelta(days=7)
    assert next_visit(T0, [(old, True), (old + timedelta(days=61), False)]) is None


def test_unknown_or_future_publication_counts_from_the_first_capture():
    assert next_visit(None, [(T0, True)]) == T0 + 15 * M
    assert next_visit(T0 + timedelta(days=3), [(T0, True)]) == T0 + 15 * M


def test_long_quiet_articles_are_dropped():
    assert next_visit(T0, [(T0, True), (T0 + timedelta(days=61), False)]) is None
    assert next_visit(T0, [(T0, True), (T0 + 2 * H, False)], follow_for=H) is None


def test_never_fetched_is_due_now_and_naive_times_are_utc():
    assert next_visit(T0, []) == T0
    naive = datetime(2026, 3, 1, 12, 0)
    assert next_visit(None, [(naive, True)]) == T0 + 15 * M


def test_configuration_overrides_and_validation():
    cfg = RevisitConfig().overridden({"min_interval": 600, "growth": "0.5", "hot_for": None})
    assert cfg.min_interval == 10 * M and cfg.growth == 0.5
    assert cfg.next_visit(T0, [(T0, True)]) == T0 + 10 * M
    from_settings = config_from_settings(
        {"ARCHIVER_REVISIT_MAX_INTERVAL": 3600, "ARCHIVER_REVISIT_BUSY_CHANGES": "3"}
    )
    assert from_settings.max_interval == H and from_settings.busy_changes == 3
    with pytest.raises(ValueError):
        RevisitConfig().overridden({"growth": 0})
    with pytest.raises(ValueError):
        RevisitConfig().overridden({"min_interval": 7200, "max_interval": 3600})
