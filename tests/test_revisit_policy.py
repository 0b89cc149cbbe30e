"""The revisit policy, as a pure function of an article's history."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from archiver.revisit import (
    RevisitConfig,
    RevisitConfigError,
    config_from_settings,
    next_visit,
    parse_duration,
)

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
    assert steps[0] == 15 * M and steps[-1] == timedelta(days=14)
    # Followed for 60 quiet days, for a small fraction of NewsDiffs's ~170 fetches in 45.
    assert visits[-1][0] - T0 >= timedelta(days=60)
    assert len(visits) < 35


def test_a_change_brings_the_article_back_to_close_watch():
    visits = [(T0, True), (T0 + 2 * timedelta(days=1), False)]
    quiet = next_visit(T0, visits)
    assert quiet is not None and quiet - visits[-1][0] > 12 * H
    visits.append((T0 + 3 * timedelta(days=1), True))
    assert next_visit(T0, visits) == visits[-1][0] + 15 * M


def test_a_busy_article_is_checked_at_least_every_half_hour():
    visits = [(T0, True)] + [(T0 + i * H, True) for i in (1, 2, 3)] + [(T0 + 8 * H, False)]
    quiet_since_change = next_visit(T0, visits[:1] + [(T0 + 8 * H, False)])
    busy = next_visit(T0, visits)
    assert quiet_since_change is not None and busy is not None
    assert busy - visits[-1][0] == 30 * M < quiet_since_change - visits[-1][0]
    # Still busy the next morning (three changes within the day), not two days later.
    assert next_visit(T0, visits[:-1] + [(T0 + 20 * H, False)]) == T0 + 20 * H + 30 * M
    two_days = next_visit(T0, visits[:-1] + [(T0 + 50 * H, False)])
    assert two_days is not None and two_days - (T0 + 50 * H) > H


def test_two_changes_slow_the_growth_but_are_not_busy():
    visits = [(T0, True), (T0 + H, True), (T0 + 2 * H, True), (T0 + 8 * H, False)]
    nxt = next_visit(T0, visits)
    never_changed = next_visit(T0, [(T0, True), (T0 + 8 * H, False)])
    assert nxt is not None and never_changed is not None
    # Quiet 6 h since the last change, growth 0.8 / (1 + 2 changes in the day): 96 min.
    assert nxt - visits[-1][0] == 96 * M
    assert 30 * M < nxt - visits[-1][0] < never_changed - visits[-1][0]


def test_an_article_found_late_is_not_fresh():
    found = T0 + 5 * timedelta(days=1)
    nxt = next_visit(T0, [(found, True)])
    assert nxt is not None and nxt - found > timedelta(days=1)
    # Found a year after publication: still checked every two weeks for a while, then
    # dropped.
    old = T0 + timedelta(days=365)
    assert next_visit(T0, [(old, True)]) == old + timedelta(days=14)
    assert next_visit(T0, [(old, True), (old + timedelta(days=61), False)]) is None


def test_an_article_found_fresh_is_watched_for_its_hot_hours_from_capture():
    # Listed 50 minutes after publication: 15-minute checks until 3 h after our capture,
    # not only until 3 h after publication.
    found = T0 + 50 * M
    late_in_hot_window = found + 2 * H + 45 * M
    assert next_visit(T0, [(found, True), (late_in_hot_window, False)]) == (
        late_in_hot_window + 15 * M
    )
    # Found 4 h after publication: past its hot hours already.
    past = T0 + 4 * H
    nxt = next_visit(T0, [(past, True)])
    assert nxt is not None and nxt - past > H


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


@pytest.mark.parametrize(
    ("text", "expected"),
    [("15m", 15 * M), ("2h", 2 * H), ("7d", timedelta(days=7)), ("1w", timedelta(days=7)),
     ("1h30m", 90 * M), (" 90S ", timedelta(seconds=90)), ("1.5h", 90 * M)],
)
def test_durations_are_parsed(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("bad", ["15", "15 m", "m", "0m", "-5m", "1.m", "7 days", "", True])
def test_bad_durations_are_one_clear_error(bad):
    with pytest.raises(RevisitConfigError, match="^ARCHIVER_X must be"):
        parse_duration(bad, "ARCHIVER_X")


def test_settings_take_durations_and_name_the_bad_one():
    cfg = config_from_settings(
        {"ARCHIVER_REVISIT_MIN_INTERVAL": "10m", "ARCHIVER_REVISIT_MAX_INTERVAL": "3d",
         "ARCHIVER_REVISIT_FOLLOW_FOR": "90d", "ARCHIVER_REVISIT_GROWTH": "0.6",
         "ARCHIVER_REVISIT_HOT_FOR": ""}
    )
    assert (cfg.min_interval, cfg.max_interval, cfg.follow_for) == (
        10 * M, timedelta(days=3), timedelta(days=90))
    assert cfg.growth == 0.6 and cfg.hot_for == timedelta(hours=3)
    with pytest.raises(RevisitConfigError, match="ARCHIVER_REVISIT_FOLLOW_FOR must be a duration"):
        config_from_settings({"ARCHIVER_REVISIT_FOLLOW_FOR": "sixty days"})
    with pytest.raises(RevisitConfigError, match="ARCHIVER_REVISIT_BUSY_CHANGES must be a whole"):
        config_from_settings({"ARCHIVER_REVISIT_BUSY_CHANGES": "2.5"})
    with pytest.raises(RevisitConfigError, match=(
            "ARCHIVER_REVISIT_MIN_INTERVAL .* is longer than ARCHIVER_REVISIT_MAX_INTERVAL")):
        config_from_settings({"ARCHIVER_REVISIT_MIN_INTERVAL": "20d"})


def test_a_source_configuration_wins_for_its_articles():
    base = config_from_settings({"ARCHIVER_REVISIT_MIN_INTERVAL": "20m"})
    mine = base.overridden({"min_interval": "5m"})
    cfg = replace(base, sources=((("example.com",), mine),))
    assert cfg.for_url("https://www.example.com/a").min_interval == 5 * M
    assert cfg.for_url("https://news.example.com/a") is mine
    assert cfg.for_url("https://example.com.evil.org/a") is cfg
    assert cfg.for_url("https://other.org/a").min_interval == 20 * M
    # The source's values are applied over the settings, not over the defaults.
    assert mine.max_interval == base.max_interval and mine.sources == ()
