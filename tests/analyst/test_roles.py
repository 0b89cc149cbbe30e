"""`archiver db grant-readonly` on a real PostgreSQL: the role reads the documented views,
cannot write, cannot read tables (nor the raw captures unless --with-raw); idempotent;
its grants survive migrations that drop and create views again. On SQLite, and with a
name that is not an identifier, one line and exit 2."""

from __future__ import annotations

import io
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import make_url, text

from archiver.analyst.roles import ANALYST_VIEWS, RAW_TABLE
from archiver.cli import main
from archiver.storage.raw import decompress
from archiver.storage.session import make_engine, make_sessionmaker

from ..conftest import PG_ADMIN_URL, _libpq
from .conftest import PAGES, URL_DE, build_archive

TABLES = ["sites", "articles", "versions", "raw_captures", "fetches", "crawl_runs",
          "readings", "alembic_version"]
REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.postgres


def _admin(sql: str) -> None:
    with psycopg.connect(_libpq(PG_ADMIN_URL), autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture
def archive_url(pg_url: str) -> str:
    engine = make_engine(pg_url)
    with make_sessionmaker(engine)() as session:
        build_archive(session)
    engine.dispose()
    return pg_url


@pytest.fixture
def roles(pg_url: str) -> Iterator[list[str]]:
    """Unique role names for one test (roles are the whole server's); dropped after."""
    names: list[str] = []
    yield names
    for name in names:
        with psycopg.connect(_libpq(pg_url), autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone():
                conn.execute(f'DROP OWNED BY "{name}"')
                conn.execute(f'DROP ROLE "{name}"')


def new_role(roles: list[str], prefix: str = "analyst") -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    roles.append(name)
    return name


def grant(capsys: pytest.CaptureFixture[str], url: str, role: str,
          *extra: str) -> tuple[int, str, str]:
    status = main(["--database-url", url, "db", "grant-readonly", role, *extra])
    out, err = capsys.readouterr()
    return status, out, err


def as_role(url: str, role: str, sql: str) -> list[tuple]:
    """Run ``sql`` with ``role``'s rights (SET ROLE: the role may be NOLOGIN)."""
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        conn.execute(f'SET ROLE "{role}"')
        return conn.execute(sql).fetchall()


def denied(url: str, role: str, sql: str) -> bool:
    try:
        as_role(url, role, sql)
    except psycopg.errors.InsufficientPrivilege:
        return True
    return False


def test_reads_views_cannot_write_cannot_read_tables(
        archive_url: str, roles: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    role = new_role(roles)
    status, out, err = grant(capsys, archive_url, role)
    assert (status, err) == (0, "")
    assert f"role {role} created (NOLOGIN): reads article_latest, " in out
    assert "not the raw captures; no table, no write" in out
    for view in ANALYST_VIEWS:
        assert as_role(archive_url, role, f"SELECT count(*) FROM {view}")[0][0] >= 0, view
    assert as_role(archive_url, role, "SELECT count(*) FROM article_versions") == [(5,)]
    # The search view works for the role (its functions run with the role's rights).
    [(url,)] = as_role(archive_url, role, "SELECT url FROM version_search WHERE document @@ "
                       "websearch_to_tsquery('german', 'Wahlen') AND is_latest")
    assert url == URL_DE
    for table in TABLES:
        assert denied(archive_url, role, f"SELECT 1 FROM {table} LIMIT 1"), table
    for write in (("INSERT INTO fetch_log (url, fetched_at, outcome) "
                   "VALUES ('https://x.example/', now(), 'error')"),  # an updatable view
                  "UPDATE fetch_log SET reason = 'x'",
                  "DELETE FROM fetch_log",
                  "UPDATE versions SET title = 'x'",
                  "TRUNCATE fetches",
                  "SELECT nextval('versions_id_seq')",
                  "CREATE TABLE mine (x int)",
                  "CREATE VIEW mine AS SELECT 1"):
        assert denied(archive_url, role, write), write
    with psycopg.connect(_libpq(archive_url)) as conn:
        login = conn.execute("SELECT rolcanlogin FROM pg_roles WHERE rolname = %s",
                             (role,)).fetchone()
    assert login == (False,)  # a group: granted to people, it cannot log in itself


def test_idempotent_and_brings_a_role_up_to_date(
        archive_url: str, roles: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    role = new_role(roles)
    assert grant(capsys, archive_url, role)[0] == 0
    before = acl(archive_url)
    status, out, _ = grant(capsys, archive_url, role)
    assert status == 0 and f"role {role} updated (NOLOGIN)" in out
    assert acl(archive_url) == before
    # Someone granted it more by hand: running it again takes that back.
    _admin_in(archive_url, f'GRANT SELECT ON versions, raw_captures TO "{role}"; '
                           f'GRANT INSERT, UPDATE ON fetches, article_latest TO "{role}"; '
                           f'GRANT USAGE ON SEQUENCE fetches_id_seq TO "{role}"')
    assert not denied(archive_url, role, "SELECT 1 FROM versions")
    status, _, err = grant(capsys, archive_url, role)
    assert (status, err) == (0, "")
    assert acl(archive_url) == before
    assert denied(archive_url, role, "SELECT 1 FROM versions")


def test_password_and_with_raw(archive_url: str, roles: list[str],
                               capsys: pytest.CaptureFixture[str],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    role = new_role(roles)
    monkeypatch.setattr(sys, "stdin", io.StringIO("s3cret pass'word\n"))
    status, out, _ = grant(capsys, archive_url, role, "--password", "--with-raw")
    assert status == 0 and f"role {role} created (LOGIN)" in out
    assert "and the raw captures (raw_captures)" in out
    with psycopg.connect(_libpq(archive_url)) as conn:
        login, secret = conn.execute(
            "SELECT rolcanlogin, rolpassword FROM pg_authid WHERE rolname = %s", (role,)
        ).fetchone()
    assert login and secret.startswith(("SCRAM-SHA-256$", "md5"))  # sent hashed
    # It logs in as itself, reads the views and the raw bodies, still no other table.
    with psycopg.connect(_libpq(archive_url), user=role, password="s3cret pass'word") as conn:
        bodies = [decompress(bytes(b)) for (b,) in conn.execute(
            "SELECT r.body FROM raw_captures r JOIN article_versions v "
            "ON v.raw_capture_id = r.id WHERE v.url = %s", (URL_DE,))]
        assert bodies == [PAGES[URL_DE]]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT 1 FROM versions")
    # Without --with-raw again, the raw captures are taken back; the login stays.
    status, out, _ = grant(capsys, archive_url, role)
    assert status == 0 and "(LOGIN)" in out and "not the raw captures" in out
    assert denied(archive_url, role, f"SELECT 1 FROM {RAW_TABLE}")


def test_grants_survive_migrations_that_recreate_views(
        archive_url: str, roles: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    analyst, narrow = new_role(roles), new_role(roles, "narrow")
    assert grant(capsys, archive_url, analyst, "--with-raw")[0] == 0
    _admin_in(archive_url, f'CREATE ROLE "{narrow}" NOLOGIN; '
                           f'GRANT SELECT ON article_versions TO "{narrow}"; '
                           "GRANT SELECT ON article_latest TO PUBLIC")
    views_before = view_oids(archive_url)
    # Down to 0005 (0006, 0008, 0011 and 0013 drop their views, 0006 creates
    # article_latest and article_versions again), then up: every view is new.
    assert main(["--database-url", archive_url, "db", "downgrade", "0005"]) == 0
    assert not denied(archive_url, analyst, "SELECT 1 FROM article_versions")
    assert main(["--database-url", archive_url, "db", "upgrade"]) == 0
    capsys.readouterr()
    views_after = view_oids(archive_url)
    assert set(views_after) == set(ANALYST_VIEWS)
    # Every view is new but fetch_log (0007 replaces it in place: its grants stay).
    assert {v for v in views_after if views_after[v] != views_before[v]} == (
        set(ANALYST_VIEWS) - {"fetch_log"})
    for view in ANALYST_VIEWS:
        assert not denied(archive_url, analyst, f"SELECT 1 FROM {view}"), view
    assert not denied(archive_url, analyst, "SELECT 1 FROM raw_captures")
    assert denied(archive_url, analyst, "SELECT 1 FROM versions")
    # A role that could read one view by hand reads that one again, and nothing more;
    # what every role could read (a grant to PUBLIC) too.
    assert not denied(archive_url, narrow, "SELECT 1 FROM article_versions")
    assert not denied(archive_url, narrow, "SELECT 1 FROM article_latest")
    assert denied(archive_url, narrow, "SELECT 1 FROM version_readings")
    status, _, err = grant(capsys, archive_url, analyst, "--with-raw")
    assert (status, err) == (0, "")  # nothing leaked through the migrations


def test_a_privilege_it_inherits_is_reported(
        archive_url: str, roles: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    role, writer = new_role(roles), new_role(roles, "writer")
    _admin_in(archive_url, f'CREATE ROLE "{writer}" NOLOGIN; '
                           f'GRANT SELECT, INSERT ON versions TO "{writer}"; '
                           f'CREATE ROLE "{role}" NOLOGIN IN ROLE "{writer}"')
    status, _, err = grant(capsys, archive_url, role)
    assert status == 1
    assert err.splitlines() == [
        f"archiver db grant-readonly: warning: {role} can write to versions"]


def test_column_grants_and_role_attributes_are_taken_back_or_reported(
        archive_url: str, roles: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    role, reader = new_role(roles), new_role(roles, "reader")
    # Granted a column of a table directly: taken back. Through a role it belongs to, and
    # an attribute that lets it do more than read: reported.
    _admin_in(archive_url, f'CREATE ROLE "{reader}" NOLOGIN; '
                           f'GRANT SELECT (title) ON versions TO "{reader}"; '
                           f'CREATE ROLE "{role}" NOLOGIN CREATEDB IN ROLE "{reader}"; '
                           f'GRANT UPDATE (reason) ON fetches TO "{role}"')
    status, _, err = grant(capsys, archive_url, role)
    assert status == 1
    assert err.splitlines() == [
        f"archiver db grant-readonly: warning: {role} may create databases (CREATEDB)",
        f"archiver db grant-readonly: warning: {role} can read the table versions"]
    assert denied(archive_url, role, "UPDATE fetches SET reason = 'x'")


def test_refuses_the_crawlers_own_role_and_a_superuser(
        archive_url: str, roles: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    owner = new_role(roles, "owner")
    _admin_in(archive_url, f'CREATE ROLE "{owner}" NOLOGIN; ALTER TABLE crawl_runs OWNER TO "{owner}"')
    for name, reason in ((owner, "owns the archive's tables"), ("postgres", "is a superuser")):
        status, out, err = grant(capsys, archive_url, name)
        assert (status, out) == (2, "") and len(err.splitlines()) == 1, err
        assert err.startswith("archiver db grant-readonly: error: ") and reason in err
    _admin_in(archive_url, "ALTER TABLE crawl_runs OWNER TO postgres")


def test_a_user_without_the_rights_gets_one_line(
        archive_url: str, roles: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    clerk = new_role(roles, "clerk")
    _admin_in(archive_url, f'CREATE ROLE "{clerk}" LOGIN')
    as_clerk = make_url(archive_url).set(username=clerk).render_as_string(hide_password=False)
    status, out, err = grant(capsys, as_clerk, new_role(roles))
    assert (status, out) == (2, "") and len(err.splitlines()) == 1, err
    assert "permission denied" in err and "CREATEROLE" in err


def test_every_view_is_documented_and_granted(archive_url: str) -> None:
    engine = make_engine(archive_url)
    with engine.connect() as conn:
        views = set(conn.execute(text(
            "SELECT viewname FROM pg_views WHERE schemaname = current_schema()")).scalars())
    engine.dispose()
    assert views == set(ANALYST_VIEWS)
    readme = (REPO / "README.md").read_text()
    for view in ANALYST_VIEWS:
        assert f"`{view}`" in readme, view


@pytest.mark.parametrize("name", ["bad-name", "1st", "a b", 'x"; DROP TABLE versions; --',
                                  "pg_reader", "public", "x" * 64, ""])
def test_a_name_that_is_not_an_identifier(name: str, pg_url: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = grant(capsys, pg_url, name)
    assert (status, out) == (2, "") and len(err.splitlines()) == 1, err
    assert err.startswith("archiver db grant-readonly: error: role name ")


def acl(url: str) -> list[tuple]:
    with psycopg.connect(_libpq(url)) as conn:
        return conn.execute("SELECT relname, relacl::text FROM pg_class WHERE relnamespace = "
                            "'public'::regnamespace ORDER BY relname").fetchall()


def view_oids(url: str) -> dict[str, int]:
    with psycopg.connect(_libpq(url)) as conn:
        return dict(conn.execute("SELECT relname, oid::int FROM pg_class WHERE relkind = 'v' "
                                 "AND relnamespace = 'public'::regnamespace").fetchall())


def _admin_in(url: str, sql: str) -> None:
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        for statement in sql.split("; "):
            conn.execute(statement)


def test_search_and_export_as_the_role_say_so_in_one_line(
        archive_url: str, roles: list[str], capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    role = new_role(roles)
    monkeypatch.setattr(sys, "stdin", io.StringIO("pw\n"))
    assert grant(capsys, archive_url, role, "--password")[0] == 0
    as_role_url = make_url(archive_url).set(username=role, password="pw").render_as_string(
        hide_password=False)
    for args in (["search", "Wahlen"], ["export", "--format", "jsonl"]):
        status = main(["--database-url", as_role_url, *args])
        out, err = capsys.readouterr()
        assert (status, out) == (2, "") and len(err.splitlines()) == 1, err
        assert "may not read the archive's tables" in err and "pw" not in err
