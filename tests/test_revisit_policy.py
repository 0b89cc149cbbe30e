"""The revisit policy, as a pure function of an article's history."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from archiver.crawl.sources import load_sources
from archiver.revisit import (
    BUSY_INTERVAL,
    DAILY_FETCHES,
    FOLLOW_FOR,
    HOT_INTERVAL,
    MAX_INTERVAL,
    MIN_INTERVAL,
    EditHours,
    RevisitConfig,
    RevisitConfigError,
    _watched,
    config_from_settings,
    next_visit,
    parse_duration,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)
M = timedelta(minutes=1)
DAY = timedelta(days=1)


def follow(published_at, visits, **config):
    """The policy's own schedule from ``visits`` on, no change seen: the visits it makes
    until it stops (``None``)."""
    visits = list(visits)
    while (nxt := next_visit(published_at, visits, **config)) is not None:
        assert nxt > visits[-1][0]
        visits.append((nxt, False))
    return visits


def test_a_fresh_article_is_watched_closely():
    nxt = next_visit(T0, [(T0 + 5 * M, True)])
    assert nxt == T0 + 20 * M


def test_intervals_grow_with_quiet_time():
    visits = follow(T0, [(T0, True)])
    steps = [b[0] - a[0] for a, b in pairwise(visits)]
    assert steps == sorted(steps)
    # 15-minute checks for the hot hours, then each wait as long as the quiet so far, up
    # to two weeks: a quiet old article backs off to max_interval and stays there.
    assert steps[:12] == [HOT_INTERVAL] * 12 and steps[12] == 3 * H
    assert steps[-1] == MAX_INTERVAL and steps.count(MAX_INTERVAL) >= 3
    # Followed for 60 quiet days, for a small fraction of NewsDiffs's ~170 fetches in 45.
    assert visits[-1][0] - T0 >= FOLLOW_FOR
    assert len(visits) < 30


def test_an_article_that_just_changed_is_revisited_within_the_min_interval():
    found = T0 + 10 * M
    changed = T0 + 2 * DAY
    visits = [(found, True), (T0 + DAY, False), (changed, True)]
    assert next_visit(T0, visits) == changed + MIN_INTERVAL
    # Burst checks every min_interval for 45 minutes, then every 15 minutes until 90.
    visits.append((changed + 40 * M, False))
    assert next_visit(T0, visits) == changed + 40 * M + MIN_INTERVAL
    visits.append((changed + 50 * M, False))
    assert next_visit(T0, visits) == changed + 50 * M + HOT_INTERVAL
    # Then back off from the change: quiet 2 h, one change in the day: an hour.
    visits.append((changed + 2 * H, False))
    assert next_visit(T0, visits) == changed + 3 * H
    # Whatever the configuration, just changed means due within min_interval.
    assert next_visit(T0, visits[:3], min_interval=20 * M) == changed + 20 * M


def test_a_change_brings_a_quiet_article_back_to_close_watch():
    visits = [(T0, True), (T0 + 2 * DAY, False)]
    quiet = next_visit(T0, visits)
    assert quiet is not None and quiet - visits[-1][0] > 12 * H
    visits.append((T0 + 3 * DAY, True))
    assert next_visit(T0, visits) == visits[-1][0] + MIN_INTERVAL


def test_recent_changes_slow_the_back_off():
    visits = [(T0, True), (T0 + H, True), (T0 + 2 * H, True), (T0 + 8 * H, False)]
    nxt = next_visit(T0, visits)
    never_changed = next_visit(T0, [(T0, True), (T0 + 8 * H, False)])
    assert nxt is not None and never_changed is not None
    # Quiet 6 h since the last change, growth 1.0 / (1 + 2 changes in the day): 2 h.
    assert nxt - visits[-1][0] == 2 * H < never_changed - visits[-1][0] == 8 * H
    # Many changes: never slower than heavy_growth (0.2) times the quiet time.
    many = [(T0 + i * 10 * M, True) for i in range(8)] + [(T0 + 6 * H, False)]
    nxt = next_visit(T0, many)
    assert nxt is not None and nxt - many[-1][0] == (6 * H - 70 * M) * 0.2
    # Changes older than a day are forgotten.
    later = many[:-1] + [(T0 + 3 * DAY, False)]
    nxt = next_visit(T0, later)
    assert nxt is not None and nxt - later[-1][0] == 3 * DAY - 70 * M


def test_an_article_fetched_all_day_is_capped_at_the_busy_interval():
    # A live page changing at every check for a day: 40 fetches in the last 24 hours.
    visits = [(T0 + i * 30 * M, True) for i in range(DAILY_FETCHES)]
    last = visits[-1][0]
    assert next_visit(T0, visits) == last + BUSY_INTERVAL
    # One fetch fewer in the day: the change just seen gets its burst checks.
    assert next_visit(T0, visits[1:]) == last + MIN_INTERVAL
    # The cap is a floor, not a ceiling: a quiet stretch still backs off past it.
    quiet = visits + [(last + 5 * H, False)]
    nxt = next_visit(T0, quiet)
    assert nxt is not None and nxt - quiet[-1][0] > BUSY_INTERVAL
    assert next_visit(T0, visits, daily_fetches=1000) == last + MIN_INTERVAL


def test_an_article_found_late_is_not_fresh():
    found = T0 + 5 * DAY
    nxt = next_visit(T0, [(found, True)])
    assert nxt is not None and nxt - found > DAY
    # Found a year after publication: still checked every two weeks while we follow it
    # (follow_for from our capture), then dropped.
    old = T0 + timedelta(days=365)
    assert next_visit(T0, [(old, True)]) == old + MAX_INTERVAL
    visits = follow(T0, [(old, True)])
    assert [b[0] - a[0] for a, b in pairwise(visits)] == [MAX_INTERVAL] * 5
    assert visits[-1][0] - old >= FOLLOW_FOR


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


def test_follow_for_stops_following_a_quiet_article():
    visits = follow(T0, [(T0, True)])
    last = visits[-1][0]
    assert last - T0 >= FOLLOW_FOR > visits[-2][0] - T0
    assert next_visit(T0, visits) is None and next_visit(T0, visits[:-1]) == last
    # A change restarts the count; a shorter follow_for stops sooner.
    assert next_visit(T0, [*visits[:-1], (last, True)]) == last + MIN_INTERVAL
    assert next_visit(T0, [(T0, True), (T0 + 2 * H, False)], follow_for=H) is None
    short = follow(T0, [(T0, True)], follow_for=7 * DAY)
    assert 7 * DAY <= short[-1][0] - T0 < 14 * DAY


def test_clock_skew_never_makes_an_article_due_forever_or_never():
    day = [(T0 + i * H, i % 3 == 0) for i in range(12)]
    last = day[-1][0]
    skewed = {
        # A crawler a year ahead recorded one visit in the middle: it counts as the last.
        "a visit in the future": [*day[:5], (T0 + timedelta(days=365), True), *day[5:]],
        # ... or the first capture.
        "a first capture in the future": [(T0 + timedelta(days=365), True), *day[1:]],
        # A crawler a year behind, or visits out of order.
        "a visit in the past": [*day[:5], (T0 - timedelta(days=365), False), *day[5:]],
        "visits out of order": list(reversed(day[:-1])) + day[-1:],
        "all at the same time": [(last, True)] * 5,
        "a publication in the future": day,
    }
    for name, visits in skewed.items():
        published = T0 + timedelta(days=30) if "publication" in name else T0
        nxt = next_visit(published, visits)
        assert nxt is not None, name
        assert last + MIN_INTERVAL <= nxt <= last + MAX_INTERVAL, name
    # The last visit itself a year ahead (a clock that jumped): counted as two weeks of
    # quiet, not a year, so the article is not dropped, and not put out of reach.
    jumped = [(T0, True), (T0 + timedelta(days=365), False)]
    assert next_visit(T0, jumped) == jumped[-1][0] + MAX_INTERVAL
    # Only following it for follow_for drops it: as many checks as without the jump.
    assert len(follow(T0, jumped)) == len(follow(T0, [(T0, True), (T0 + MAX_INTERVAL, False)]))


def test_never_fetched_is_due_now_and_naive_times_are_utc():
    assert next_visit(T0, []) == T0
    naive = datetime(2026, 3, 1, 12, 0)
    assert next_visit(None, [(naive, True)]) == T0 + 15 * M
    assert next_visit(None, [(naive, True), (T0 + H, True)]) == T0 + H + MIN_INTERVAL


def test_configuration_overrides_and_validation():
    cfg = RevisitConfig().overridden(
        {"min_interval": 600, "hot_interval": "20m", "growth": "0.5", "hot_for": None}
    )
    assert cfg.min_interval == 10 * M and cfg.growth == 0.5
    assert cfg.next_visit(T0, [(T0, True)]) == T0 + 20 * M
    assert cfg.next_visit(T0, [(T0, True), (T0 + H, True)]) == T0 + H + 10 * M
    from_settings = config_from_settings(
        {"ARCHIVER_REVISIT_MAX_INTERVAL": 3600, "ARCHIVER_REVISIT_DAILY_FETCHES": "30",
         "ARCHIVER_REVISIT_BURST_FOR": "1h", "ARCHIVER_REVISIT_HOT_AFTER_CHANGE": "2h"}
    )
    assert from_settings.max_interval == H and from_settings.daily_fetches == 30
    assert (from_settings.burst_for, from_settings.hot_after_change) == (H, 2 * H)
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
    with pytest.raises(RevisitConfigError, match="ARCHIVER_REVISIT_DAILY_FETCHES must be a whole"):
        config_from_settings({"ARCHIVER_REVISIT_DAILY_FETCHES": "2.5"})
    with pytest.raises(RevisitConfigError, match="ARCHIVER_REVISIT_BUSY_CHANGES: not a revisit"):
        RevisitConfig().overridden({"busy_changes": 3}, {"busy_changes": "ARCHIVER_REVISIT_BUSY_CHANGES"})
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


def test_a_source_sets_counts_as_numbers_and_durations_as_text(tmp_path):
    path = tmp_path / "sources.toml"
    path.write_text(
        '[[source]]\nname = "live"\ndomains = ["live.example"]\n'
        'revisit_daily_fetches = 20\nrevisit_burst_for = "30m"\nrevisit_growth = 0.5\n'
    )
    assert dict(load_sources(path)["live"].revisit) == {
        "burst_for": 30 * M, "daily_fetches": 20, "growth": 0.5}


#: A newsroom that edits from 6:00 to 22:00 (UTC) and sleeps at night.
DAYTIME = EditHours([0 if h < 6 or h >= 22 else 1 for h in range(24)])


def test_a_site_with_every_hour_alike_is_followed_as_without_hours():
    evening = T0.replace(hour=20)
    for visits in ([(evening, True)], [(evening, True), (evening + 2 * H, True)]):
        plain = follow(evening, visits)
        assert follow(evening, visits, edit_hours=EditHours([3] * 24)) == plain
        assert len(plain) > 10


def test_a_site_that_sleeps_at_night_is_checked_in_its_working_hours():
    evening = T0.replace(hour=20)
    nights = []
    for hours in (None, DAYTIME):
        visits = follow(evening, [(evening, True)], edit_hours=hours)
        visits = [t for t, _ in visits if t < evening + 2 * DAY]
        nights.append([t for t in visits if t.hour < 6 or t.hour >= 23])
        # Checked in the first hours of the next working day, when the night's edits come.
        assert any(t.day == 2 and 6 <= t.hour < 8 for t in visits) == (hours is DAYTIME)
    plain, daytime = nights
    assert plain and not daytime
    # Its hot hours are working hours: more checks while the desk is in, none wasted after.
    busy = follow(evening, [(evening, True)], edit_hours=DAYTIME)
    hot = [t for t, _ in busy if t < evening.replace(hour=22)]
    assert len(hot) > len([t for t, _ in follow(evening, [(evening, True)])
                           if t < evening.replace(hour=22)])
    assert all(b[0] - a[0] >= MIN_INTERVAL for a, b in pairwise(busy))


def test_edit_hours_are_a_clock_that_runs_at_the_sites_rate():
    ten = T0.replace(hour=10)
    # A mean of one: a day of site time is a day.
    assert DAYTIME.span(ten, ten + DAY) == DAY
    assert DAYTIME.after(ten, DAY) == ten + DAY
    # The night is short on the site's clock (a floor of a fifth of the mean), the day long.
    night = DAYTIME.span(T0.replace(hour=22), T0.replace(hour=22) + 8 * H)
    assert night < 2 * H and DAYTIME.span(ten, ten + 8 * H) > 8 * H
    at = DAYTIME.after(T0.replace(hour=21), 3 * H)
    assert at.day == 2 and 6 <= at.hour < 8
    with pytest.raises(ValueError, match="24 rates"):
        EditHours([1] * 23)
    with pytest.raises(ValueError, match="24 rates"):
        EditHours([1] * 23 + [-1])
    with pytest.raises(ValueError, match="at least one hour"):
        EditHours([0] * 24)


def _log(published_hours, changed, every=30 * M, until=2 * DAY):
    """Revisits ``(born, since, until, changed)``: articles published at each of
    ``published_hours`` (on 20 days), fetched ``every`` so often ``until`` that age;
    ``changed(at, age)`` says which fetch found a change."""
    log = []
    for day in range(20):
        for hour in published_hours:
            born = T0.replace(hour=hour) + day * DAY
            since = born
            while (at := since + every) - born < until:
                log.append((born, since, at, changed(at, at - born)))
                since = at
    return log


def test_a_sites_hours_are_learned_from_when_its_revisits_found_changes():
    # Edits made 8:00-20:00 only (in the first half of each hour), whatever the age.
    learned = EditHours.learned(
        _log(range(24), lambda at, age: 8 <= at.hour < 20 and at.minute == 30))
    assert learned is not None
    day, night = learned.weights[8:20], learned.weights[:6] + learned.weights[21:]
    assert min(day) > 5 * max(night)


def test_age_is_not_taken_for_the_hour_of_day():
    # Articles change only while young: a site whose articles appear at 4:00 is seen
    # changing in the early morning because they are young then. Its age says the hour
    # through the first day: no hours are learned.
    young = lambda at, age: age < 2 * H  # noqa: E731
    assert EditHours.learned(_log([4], young, every=15 * M), evidence=0) is None
    # Published at four hours of the day, the two can be told apart: the hours explain
    # nothing the age does not, so none are taken, and fitted all the same they are alike.
    log = _log([4, 10, 16, 22], young, every=15 * M)
    assert EditHours.learned(log) is None
    fitted = EditHours.learned(log, evidence=0)
    assert fitted is not None
    assert max(fitted.weights) < 1.5 and min(fitted.weights) > 0.6


def test_too_few_changes_teach_no_hours():
    log = _log(range(24), lambda at, age: at.hour == 9 and age < H and at.day < 4, until=2 * H)
    assert 0 < sum(c for *_, c in log) < 48
    assert EditHours.learned(log) is None
    assert EditHours.learned(log, least=1, evidence=0) is not None


def test_learning_a_sites_hours_can_be_switched_off():
    assert RevisitConfig().learn_hours is True
    assert config_from_settings({"ARCHIVER_REVISIT_LEARN_HOURS": "off"}).learn_hours is False
    assert config_from_settings({"ARCHIVER_REVISIT_LEARN_HOURS": "1"}).learn_hours is True
    with pytest.raises(RevisitConfigError, match="ARCHIVER_REVISIT_LEARN_HOURS must be on or off"):
        config_from_settings({"ARCHIVER_REVISIT_LEARN_HOURS": "sometimes"})
    # Not an argument of the pure function.
    assert "learn_hours" not in RevisitConfig().kwargs()


def test_a_source_switches_learning_its_hours_off(tmp_path):
    path = tmp_path / "sources.toml"
    path.write_text('[[source]]\nname = "wire"\ndomains = ["wire.example"]\n'
                    "revisit_learn_hours = false\n")
    assert dict(load_sources(path)["wire"].revisit) == {"learn_hours": False}


def test_the_hours_a_revisit_watched_add_up_whatever_the_rounding():
    # Times whose offsets from the capture do not round exactly to the age bands' ends
    # (a revisit crossing several bands, and a long wait crossing days).
    born = datetime(2026, 3, 1, 12, 0, 0, 123457, tzinfo=UTC)
    for since, until in [(born + 7 * M, born + 5 * H + 17 * M),
                         (born + 2 * DAY + 3 * M, born + 9 * DAY + 11 * H),
                         (born - H, born + 20 * M)]:
        cells = _watched(born, since, until)
        assert sum(h for _, h in cells) == pytest.approx((until - since) / H)
        assert all(h > 0 for _, h in cells)
