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
