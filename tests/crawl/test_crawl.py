"""Whole crawls: the real `news` spider against the loopback server, into SQLite and
PostgreSQL, with hostile URLs in the same sitemap."""

from __future__ import annotations

import pytest

from tests.crawl.mockserver import MockServer, hostile_article_urls, sitemap_with


def test_first_chrome_and_correction_recrawls(server: MockServer, db_url, crawl, archive_of):
    site = server.new_site(n=30, seed=3)
    hostile = hostile_article_urls(server)
    sitemap = sitemap_with(server, site, list(hostile.values()))
    archive = archive_of(db_url)

    first = crawl(db_url, sitemap=sitemap)
    assert first.returncode == 0, first.log[-3000:]
    run1 = archive.last_run()
    outcomes = archive.outcomes(run1)
    assert outcomes["new_article"] == 30 + 6  # 30 site articles + 6 hostile readable pages
    assert archive.scalar("SELECT count(*) FROM versions") == 36
    assert "Crawl run" in first.summary and "36 new articles" in first.summary

    # Every hostile page has a fetch row with an outcome and a reason; none is lost.
    def row(name):
        return archive.fetch(hostile[name], run1)

    assert (row("doc.pdf").outcome, row("doc.pdf").reason) == (
        "skipped", "not a web page: application/pdf")
    assert row("image.png").outcome == "skipped"
    assert row("pdf-as-html").outcome == "skipped" and "pdf" in row("pdf-as-html").reason
    assert row("empty").outcome == "skipped" and "empty" in row("empty").reason
    assert row("huge").outcome == "error" and "too large" in row("huge").reason
    assert row("bomb").outcome == "error" and "too large" in row("bomb").reason
    assert row("loop-a").outcome == "error" and "redirect loop" in row("loop-a").reason
    flaky = row("flaky")
    assert (flaky.status, flaky.outcome) == (200, "new_article")  # 503, retried, archived
    section = archive.fetch(f"{server.base_url}{site.prefix}/{site.articles[0].section}/", run1)
    assert section.outcome == "not_article"
    for name in ("nul", "cp1252", "cp1256", "koi8r", "nocharset"):
        assert row(name).outcome == "new_article", name

    texts = {
        name: archive.scalar(
            "SELECT text FROM article_latest WHERE article_id = :id", id=row(name).article_id
        )
        for name in ("nul", "cp1252", "cp1256", "koi8r", "nocharset")
    }
    assert "Die Fähre fährt" in texts["nul"] or "ähre" in texts["nul"]
    assert "\x00" not in texts["nul"]
    assert "« C'est une décision très attendue »" in texts["cp1252"]
    assert "أعلنت وزارة الصحة" in texts["cp1256"]
    assert "Городской совет" in texts["koi8r"]
    assert "Die Kosten für die Reparatur übernimmt größtenteils" in texts["nocharset"]

    # Chrome churned on every page: no new version anywhere.
    site.state = 2
    second = crawl(db_url, sitemap=sitemap)
    assert second.returncode == 0, second.log[-3000:]
    run2 = archive.last_run()
    outcomes = archive.outcomes(run2)
    assert outcomes.get("new_version", 0) == 0
    assert outcomes.get("new_article", 0) == 0
    assert outcomes["unchanged"] >= 30
    assert archive.scalar("SELECT count(*) FROM versions") == 36

    # Corrections: exactly one new version per corrected article.
    corrected = site.articles[:5]
    site.state = 3
    site.corrected = {a.slug for a in corrected}
    third = crawl(db_url, sitemap=sitemap)
    assert third.returncode == 0, third.log[-3000:]
    run3 = archive.last_run()
    assert archive.outcomes(run3)["new_version"] == 5
    versions = archive.rows(
        "SELECT url, version_count FROM article_latest WHERE url LIKE :p", p=f"%{site.prefix}/%"
    )
    counts = {r.url.rsplit("/", 1)[-1]: r.version_count for r in versions}
    assert sorted(k for k, v in counts.items() if v == 2) == sorted(
        f"{a.slug}.html" for a in corrected)
    assert set(counts.values()) == {1, 2}

    # The crawl-run rows record arguments, status and counts.
    run = archive.rows("SELECT * FROM crawl_runs WHERE id = :id", id=run3)[0]
    assert run.status == "finished" and run.finished_at is not None
    stats = run.stats if isinstance(run.stats, dict) else __import__("json").loads(run.stats)
    assert stats["new_versions"] == 5 and stats["fetched"] >= 30


def test_conditional_recrawl_gets_304s_without_extraction(server, db_url, crawl, archive_of):
    site = server.new_site(n=12, seed=4)
    archive = archive_of(db_url)
    sitemap = server.sitemap_url(site)
    assert crawl(db_url, sitemap=sitemap).returncode == 0
    result = crawl(db_url, sitemap=sitemap)
    assert result.returncode == 0, result.log[-3000:]
    run = archive.last_run()
    outcomes = archive.outcomes(run)
    assert outcomes["not_modified"] == 12
    assert "12 not modified" in result.summary
    # The server answered 304: the pages were never sent, so never extracted.
    for a in site.articles:
        assert server.statuses[f"{site.prefix}{a.path}"] == 304
    # Gone: a known article answering 410 is marked gone, its versions kept.
    site.gone = {site.articles[0].slug}
    assert crawl(db_url, sitemap=sitemap).returncode == 0
    gone = archive.fetch(server.article_url(site, site.articles[0]), archive.last_run())
    assert gone.outcome == "gone"
    row = archive.rows("SELECT gone_at, version_count FROM article_latest WHERE article_id = :id",
                       id=gone.article_id)[0]
    assert row.gone_at is not None and row.version_count == 1


def test_identity_redirects_tracking_params_and_duplicates(server, db_url, crawl, archive_of):
    site = server.new_site(n=3, seed=5)
    archive = archive_of(db_url)
    a = site.articles[0]
    page = server.article_url(site, a)
    assert crawl(db_url, url=page).returncode == 0
    article_id = archive.fetch(page).article_id
    variants = [
        server.url(f"/r{site.prefix}{a.path}"),                      # a redirect
        server.url(f"/m{site.prefix}{a.path}"),                      # a meta refresh (gzipped)
        page + "?utm_source=newsletter&utm_medium=email&fbclid=x1",   # tracking parameters
    ]
    for v in variants:
        result = crawl(db_url, url=v)
        assert result.returncode == 0, result.log[-3000:]
        row = archive.fetch(v, archive.last_run())
        assert row.article_id == article_id, v
        assert row.outcome in ("unchanged", "not_modified")
    assert archive.scalar("SELECT count(*) FROM articles") == 1


def test_two_crawls_at_once_make_no_duplicate_versions(server, db_url, tmp_path, archive_of):
    import subprocess

    from tests.crawl.conftest import crawl_command, crawl_env
    from tests.crawl.mockserver import sitemap_with

    site = server.new_site(n=20, seed=6)
    # Two different jobs (one crawl of a job at a time is the job lock's test) whose
    # listings name the same articles: they race on every one of them.
    sitemaps = [server.sitemap_url(site), sitemap_with(server, site, [])]
    procs = [
        subprocess.Popen(
            crawl_command({"sitemap": sitemap}, {"ARCHIVER_CONDITIONAL_REQUESTS": "False"}),
            env=crawl_env(db_url, tmp_path / f"spool{i}"), cwd=tmp_path,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        for i, sitemap in enumerate(sitemaps)
    ]
    logs = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], logs[0][-2000:] + logs[1][-2000:]
    archive = archive_of(db_url)
    assert archive.scalar("SELECT count(*) FROM articles") == 20
    assert archive.scalar("SELECT count(*) FROM versions") == 20
    outcomes = archive.outcomes()
    assert outcomes["new_article"] + outcomes["unchanged"] == 40


@pytest.mark.parametrize("which", ["sitemap-laughs.xml", "sitemap-garbage.xml", "feed"])
def test_hostile_listings_are_recorded_and_the_crawl_goes_on(
    server, sqlite_url, crawl, archive_of, which
):
    site = server.new_site(n=6, seed=7)
    archive = archive_of(sqlite_url)
    truncated = server.url(f"/hostile/sitemap-truncated{site.prefix}")
    if which == "feed":
        args = {"feed": server.url("/hostile/feed-malformed.xml"), "sitemap": truncated}
    else:
        args = {"sitemap": f"{server.url('/hostile/' + which)},{truncated}"}
    result = crawl(sqlite_url, **args)
    assert result.returncode == 0, result.log[-3000:]
    row = archive.fetch(truncated)
    assert row.outcome == "error" and "malformed" in row.reason
    # What could be read of the truncated sitemap was crawled.
    assert 1 <= archive.scalar("SELECT count(*) FROM articles WHERE url LIKE :p",
                                p=f"%{site.prefix}/%") < 6
    if which == "feed":
        feed = archive.fetch(server.url("/hostile/feed-malformed.xml"))
        assert feed.outcome == "error" and "malformed" in feed.reason
        assert archive.fetch(server.url("/hostile/cp1252")).outcome == "new_article"
    else:
        listing = archive.fetch(server.url("/hostile/" + which))
        assert listing.outcome in ("error", "not_article")
        assert "lol" not in (listing.reason or "")
