"""Extraction health: a site whose extraction collapsed is flagged, on both databases."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from archiver.ops.health import site_health
from tests.crawl.conftest import REPO
from tests.crawl.mockserver import MockServer
from tests.crawl.test_upgrade import plugged_crawl  # noqa: F401 - fixture


def test_health_flags_a_site_whose_extraction_collapsed(
    server: MockServer, db_url: str, plugged_crawl: Any, tmp_path: Any  # noqa: F811
) -> None:
    site = server.new_site(n=8, seed=31)
    sitemap = server.sitemap_url(site)
    for state in (1, 2):  # two healthy crawls (the second changes only the chrome)
        site.state = state
        assert plugged_crawl(db_url, sitemap=sitemap).returncode == 0

    def health_cli() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "archiver.cli", "health"], cwd=tmp_path,
            env={"PATH": str(REPO / ".venv" / "bin"), "ARCHIVER_DATABASE_URL": db_url},
            capture_output=True, text=True, timeout=120,
        )

    [healthy] = site_health(db_url)
    assert not healthy.flagged and healthy.reasons == []
    assert healthy.figures["baseline_pages"] == 8 and healthy.figures["recent_pages"] == 8
    ok = health_cli()
    assert ok.returncode == 0 and ": ok (" in ok.stdout, ok.stdout + ok.stderr

    # A redesign: the same extractor now reads one paragraph a page.
    site.state = 3
    broken = plugged_crawl(db_url, extractor="tests.crawl.plugged:one_paragraph",
                           sitemap=sitemap)
    assert broken.returncode == 0, broken.log[-3000:]
    [sick] = site_health(db_url)
    assert sick.flagged
    assert any(r.startswith("median body words") for r in sick.reasons), sick.reasons
    assert any(r.startswith("new versions cutting the text by half") for r in sick.reasons)
    flagged = health_cli()
    assert flagged.returncode == 1 and "FLAGGED: median body words" in flagged.stdout


def test_each_figure_flags_a_site_and_says_why(
    session: Any, db_url: str, tmp_path: Any
) -> None:
    """Archives written directly, on both databases: a site per way extraction breaks
    (pages judged not_article, authors gone, dates gone), a healthy one, and two the
    view cannot judge yet (too few pages, no baseline)."""
    import dataclasses
    import json

    from archiver.storage import archive, start_crawl_run
    from tests.storage.helpers import make_article, make_fetch

    page = {"kind": "article"}

    def fetch_all(run: int, site: str, n: int, at: int, broken: str | None) -> None:
        for i in range(n):
            url = f"https://{site}/story-{i}"
            article = make_article(canonical_url=url, title=f"Story {i}")
            if broken == "not_article" and i < 4 or broken == "no_article":
                archive(session, make_fetch(url, at=at, body=b"<p>teaser</p>", meta=page),
                        None, crawl_run_id=run, keep_body=True, reason="found no article")
                continue
            if broken == "authors":
                article = dataclasses.replace(article, authors=[])
            if broken == "dates":
                article = dataclasses.replace(article, published_at=None)
            archive(session, make_fetch(url, at=at, meta=page), article, crawl_run_id=run)

    baseline = start_crawl_run(session, "news", {})
    recent = start_crawl_run(session, "news", {})
    sites = {"healthy.test": (6, None), "teaser.test": (6, "not_article"),
             "byline.test": (6, "authors"), "undated.test": (6, "dates"),
             "small.test": (3, "not_article")}
    for site, (n, broken) in sites.items():
        fetch_all(baseline, site, n, 0, None)
        fetch_all(recent, site, n, 60, broken)
    fetch_all(recent, "newsite.test", 6, 60, None)
    # Nothing read as an article before: no author share to compare with, no flag.
    fetch_all(baseline, "comeback.test", 6, 0, "no_article")
    fetch_all(recent, "comeback.test", 6, 60, "authors")

    health = {h.site: h for h in site_health(db_url)}
    assert set(health) == {*sites, "newsite.test", "comeback.test"}
    for h in health.values():
        assert h.flagged == bool(h.reasons), (h.site, h.figures, h.reasons)
    assert health["teaser.test"].reasons == ["not_article pages 0% -> 67%"]
    assert health["byline.test"].reasons == ["no author 0% -> 100%"]
    assert health["undated.test"].reasons == ["no date 0% -> 100%"]
    assert not health["healthy.test"].flagged
    assert not health["small.test"].flagged  # 3 pages: too few to judge
    assert not health["comeback.test"].flagged
    assert health["comeback.test"].figures["baseline_no_author_share"] is None
    assert not health["newsite.test"].flagged and health["newsite.test"].figures[
        "baseline_pages"] is None  # nothing to compare with yet
    assert [h.site for h in site_health(db_url)][:3] == sorted(
        ["teaser.test", "byline.test", "undated.test"])  # flagged sites first
    [one] = site_health(db_url, "byline.test")
    assert one.flagged

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "archiver.cli", "health", *args], cwd=tmp_path,
            env={"PATH": str(REPO / ".venv" / "bin"), "ARCHIVER_DATABASE_URL": db_url},
            capture_output=True, text=True, timeout=120,
        )

    as_json = cli("--json")
    assert as_json.returncode == 1, as_json.stderr
    rows = {r["site"]: r for r in json.loads(as_json.stdout)}
    assert rows["undated.test"]["flagged"] and rows["undated.test"]["reasons"] == [
        "no date 0% -> 100%"]
    assert rows["healthy.test"]["figures"]["recent_pages"] == 6
    healthy = cli("--site", "healthy.test")
    assert healthy.returncode == 0 and healthy.stdout.startswith("healthy.test: ok ("), healthy
