"""Finding 2: no caller-supplied id or file name reaches the file system as it is.

A table of hostile ids and file names goes through every route that touches files (resource and
package creation, update, patch, delete, uploads to catalogue-only and contract-backed datasets,
the download URL). Each is refused or made harmless, and a canary file beside the hub's folder,
plus the metadata database, are proven untouched and unreadable. Attribution and upload limits:
``test_uploads.py``.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import ckanapi
import httpx
import pytest

from catalog import clients, db, service
from catalog.models import Resource, utcnow
from contracts import model
from hub import paths
from hub.errors import InputError
from ingest import steps
from tests.catalog.sites import Site, site

HOSTILE_IDS = [
    "../../inbox/population.residents",
    "..",
    "/etc/passwd",
    "/tmp/canary",
    "%2e%2e%2f%2e%2e%2fhub.db",
    "%252e%252e%252f",
    "..\\..\\windows",
    "C:\\Windows\\win.ini",
    "C:",
    "abc\x00def",
    "line\nbreak",
    "x" * 1000,
    "3F2504E0-4F89-11D3-9A0C-0305E82C3301",  # a UUID, but not the canonical spelling
    "{3f2504e0-4f89-11d3-9a0c-0305e82c3301}",
    "",
]
HOSTILE_NAMES = [
    "../../../canary.txt",
    "/tmp/canary.txt",
    "..\\..\\canary.txt",
    "%2e%2e%2fcanary.txt",
    "C:\\canary.txt",
    "a\x00b.csv",
    "é" * 300 + ".csv",
    ".hidden",
    "..",
    "",
]

HOSTILE_PARTS = [part for part in HOSTILE_IDS + HOSTILE_NAMES if part]


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, Path]]:
    root = Path(tmp_path_factory.mktemp("paths"))
    canary = root / "canary.txt"
    canary.write_text("untouched", encoding="utf-8")
    os.utime(canary, (1_000_000_000, 1_000_000_000))
    with site(root, rows=30) as s:
        steward = ckanapi.RemoteCKAN(s.url, apikey=s.keys["steward"])
        steward.action.package_create(name="station-map", title="站点", owner_org="dept-11010100001")
        yield s, canary


def _as(site: Site, role: str | None) -> ckanapi.RemoteCKAN:
    return ckanapi.RemoteCKAN(site.url, apikey=site.keys[role] if role else None)


ABSOLUTE_TARGETS = [Path("/tmp/canary"), Path("/tmp/canary.txt"), Path("/canary.txt")]
"""Where the absolute names in the tables point: none of them may appear (or change)."""
BEFORE = {p: p.stat().st_mtime if p.exists() else None for p in ABSOLUTE_TARGETS}


def _outside_untouched(site: Site, canary: Path) -> None:
    assert canary.read_text(encoding="utf-8") == "untouched"
    assert canary.stat().st_mtime == 1_000_000_000
    home = site.settings.resolved_home
    strays = [p for p in canary.parent.rglob("*") if p != canary and not p.is_relative_to(home) and p != home]
    assert not strays, strays
    assert {p: p.stat().st_mtime if p.exists() else None for p in ABSOLUTE_TARGETS} == BEFORE


def test_the_path_function_refuses_every_hostile_part(tmp_path: Path) -> None:
    root = tmp_path / "store"
    root.mkdir()
    for part in HOSTILE_IDS + HOSTILE_NAMES:
        with pytest.raises(InputError):
            paths.canonical_id(part)
        if part == ".hidden" or "-4F89-" in part.upper():
            continue  # harmless as a path: only refused as an id
        with pytest.raises(InputError):
            paths.inside(root, part)
    (root / "link").symlink_to(tmp_path)
    with pytest.raises(InputError, match="outside"):
        paths.inside(root, "link")
    with pytest.raises(InputError, match="outside"):
        paths.inside(root, "link", "anything")
    assert paths.inside(root, "常住人口_2026.csv") == root.resolve() / "常住人口_2026.csv"
    for name in HOSTILE_NAMES:
        safe = paths.safe_name(name)
        assert paths.inside(root, safe).parent == root.resolve(), name


@pytest.mark.parametrize("bad", HOSTILE_IDS, ids=range(len(HOSTILE_IDS)))
def test_supplied_ids_that_are_not_uuids_are_refused(hub: tuple[Site, Path], bad: str) -> None:
    site, canary = hub
    publisher = _as(site, "publisher")
    if bad:
        with pytest.raises(ckanapi.ValidationError) as err:
            publisher.action.resource_create(package_id="station-map", id=bad, upload=("a.csv", io.BytesIO(b"id\n1\n")))
        assert "id" in err.value.error_dict
        with pytest.raises(ckanapi.ValidationError):
            publisher.action.resource_create(package_id="station-map", id=bad, url="https://example.org/x")
        with pytest.raises(ckanapi.ValidationError):
            _as(site, "steward").action.package_create(id=bad, name="bad-id-pkg", owner_org="dept-11010100001")
    for action in ("resource_update", "resource_patch"):
        with pytest.raises((ckanapi.NotFound, ckanapi.ValidationError)):
            getattr(publisher.action, action)(id=bad or "-", upload=("a.csv", io.BytesIO(b"id\n1\n")))
    with pytest.raises((ckanapi.NotFound, ckanapi.ValidationError)):
        publisher.action.resource_delete(id=bad or "-")
    _outside_untouched(site, canary)


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
def test_hostile_file_names_land_inside_the_store_or_are_refused(hub: tuple[Site, Path], name: str) -> None:
    site, canary = hub
    publisher = _as(site, "publisher")
    res = publisher.action.resource_create(package_id="station-map", upload=(name, io.BytesIO(b"id\n1\n")))
    stored = site.settings.path("filestore", res["id"])
    files = [p.name for p in stored.iterdir()]
    assert len(files) == 1 and res["url"].endswith("/" + files[0])
    assert paths.check_part(files[0]) and not files[0].startswith(".")
    got = httpx.get(res["url"], headers={"X-API-Key": site.keys["consumer"]})
    assert got.status_code == 200 and got.content == b"id\n1\n"
    patched = publisher.action.resource_patch(id=res["id"], upload=(name, io.BytesIO(b"id\n2\n")))
    assert [p.name for p in stored.iterdir()] == [patched["url"].rsplit("/", 1)[-1]], "replaced in its folder"
    # into a contract-backed dataset: the inbox of that dataset, nowhere else
    queued = publisher.action.resource_create(package_id="population-residents", upload=(name, io.BytesIO(b"x\n")))
    inbox = steps.inbox_folder(site.settings, model.find(site.settings.contracts_dir, "population.residents"))
    assert (inbox / queued["upload"]["file"]).is_file()
    (inbox / queued["upload"]["file"]).unlink()
    _outside_untouched(site, canary)


def test_a_planted_symlink_is_neither_written_through_nor_served(hub: tuple[Site, Path]) -> None:
    site, canary = hub
    publisher = _as(site, "publisher")
    res = publisher.action.resource_create(package_id="station-map", upload=("站点.csv", io.BytesIO(b"id\n1\n")))
    folder = site.settings.path("filestore", res["id"])
    (folder / "evil.csv").symlink_to(canary)
    with pytest.raises(ckanapi.ValidationError, match="outside"):
        publisher.action.resource_patch(id=res["id"], upload=("evil.csv", io.BytesIO(b"overwritten")))
    assert (folder / "evil.csv").is_symlink(), "another file in the folder is never deleted"
    url = f"{site.url}/dataset/{res['package_id']}/resource/{res['id']}/download/evil.csv"
    assert httpx.get(url, headers={"X-API-Key": site.keys["steward"]}).status_code == 404
    _outside_untouched(site, canary)


def test_a_resource_folder_planted_as_a_symlink_is_neither_written_through_nor_served(
    hub: tuple[Site, Path],
) -> None:
    site, canary = hub
    publisher = _as(site, "publisher")
    res = publisher.action.resource_create(package_id="station-map", upload=("a.csv", io.BytesIO(b"id\n1\n")))
    folder = site.settings.path("filestore", res["id"])
    (folder / "a.csv").unlink()
    folder.rmdir()
    elsewhere = canary.parent / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "a.csv").write_bytes(b"outside")
    folder.symlink_to(elsewhere)
    with pytest.raises(ckanapi.ValidationError, match="outside"):
        publisher.action.resource_patch(id=res["id"], upload=("b.csv", io.BytesIO(b"overwritten")))
    assert httpx.get(res["url"], headers={"X-API-Key": site.keys["steward"]}).status_code in (400, 404, 409)
    assert [p.name for p in elsewhere.iterdir()] == ["a.csv"] and (elsewhere / "a.csv").read_bytes() == b"outside"
    folder.unlink()
    (elsewhere / "a.csv").unlink()
    elsewhere.rmdir()
    _outside_untouched(site, canary)


@pytest.fixture(scope="module")
def stored(hub: tuple[Site, Path]) -> dict[str, str]:
    """A catalogue-only resource with an uploaded file."""
    publisher = _as(hub[0], "publisher")
    return dict(publisher.action.resource_create(package_id="station-map", upload=("ok.csv", io.BytesIO(b"id\n1\n"))))


@pytest.mark.parametrize("bad", HOSTILE_PARTS, ids=range(len(HOSTILE_PARTS)))
def test_hostile_parts_in_the_download_url_are_refused(
    hub: tuple[Site, Path], stored: dict[str, str], bad: str
) -> None:
    site, canary = hub
    base = f"{site.url}/dataset/{stored['package_id']}/resource"
    with httpx.Client() as client:
        for once in (quote(bad, safe=""), quote(quote(bad, safe=""), safe="")):
            for url in (f"{base}/{once}/download/ok.csv", f"{base}/{stored['id']}/download/{once}"):
                for headers in ({}, {"X-API-Key": site.keys["steward"]}):
                    got = client.get(url, headers=headers)
                    if "/download" in got.url.path:
                        assert 400 <= got.status_code < 500, (url, got.status_code)
                    else:  # ".." resolved by the client: the distribution's metadata page, never a file
                        assert got.headers["content-type"].startswith(("text/html", "application/json")), url
                    assert b"SQLite format" not in got.content and b"untouched" not in got.content
        assert client.get(stored["url"]).content == b"id\n1\n", "the real file is served"
    _outside_untouched(site, canary)


def test_replacing_a_file_deletes_only_the_resource_s_own_previous_file(hub: tuple[Site, Path]) -> None:
    site, _ = hub
    publisher = _as(site, "publisher")
    res = publisher.action.resource_create(package_id="station-map", upload=("v1.csv", io.BytesIO(b"id\n1\n")))
    folder = site.settings.path("filestore", res["id"])
    (folder / "someone-else.txt").write_text("keep me", encoding="utf-8")
    patched = publisher.action.resource_patch(id=res["id"], upload=("v2.csv", io.BytesIO(b"id\n2\n")))
    assert sorted(p.name for p in folder.iterdir()) == ["someone-else.txt", "v2.csv"]
    assert patched["url"].endswith("/v2.csv")


def test_a_resource_id_stored_before_ids_were_checked_never_becomes_a_path(hub: tuple[Site, Path]) -> None:
    site, canary = hub
    with db.session(site.settings.db_url) as s:
        ds = service.dataset(s, "station-map")
        s.add(
            Resource(
                id="../../../evil",
                dataset=ds,
                name="legacy",
                url="/x",
                format="",
                position=99,
                created=utcnow(),
                generated=False,
                extra={"url_type": "upload"},
            )
        )
    with pytest.raises(ckanapi.ValidationError, match="UUID"):
        _as(site, "publisher").action.resource_update(id="../../../evil", upload=("a.csv", io.BytesIO(b"id\n1\n")))
    _outside_untouched(site, canary)


@pytest.mark.parametrize(
    "path",
    [
        "/dataset/x/resource/..%2F..%2Fhub.db/download/hub.db",
        "/dataset/x/resource/%2e%2e/download/hub.db",
        "/dataset/x/resource/..%5C..%5Chub.db/download/hub.db",
        "/dataset/x/resource/x/download/..%2F..%2F..%2Fhub.db",
        "/dataset/x/resource/x/download/%2Fetc%2Fpasswd",
        "/filestore/../hub.db",
        "/hub.db",
        "/static/../../hub.db",
    ],
)
def test_nobody_downloads_the_metadata_database(hub: tuple[Site, Path], path: str) -> None:
    site, _ = hub
    for headers in ({}, {"X-API-Key": site.keys["consumer"]}):
        got = httpx.get(site.url + path, headers=headers)
        assert got.status_code in (400, 403, 404, 409), (path, got.status_code)
        assert b"SQLite format" not in got.content


def test_a_department_cannot_submit_into_another_department_s_inbox(hub: tuple[Site, Path]) -> None:
    site, _ = hub
    with db.session(site.settings.db_url) as s:
        key = clients.issue_key(
            s, clients.ensure_client(s, "civil-affairs", role="publisher", organization="11010100003")
        )
    inbox = steps.inbox_folder(site.settings, model.find(site.settings.contracts_dir, "population.residents"))
    before = sorted(inbox.iterdir()) if inbox.exists() else []
    with pytest.raises(ckanapi.NotAuthorized):
        ckanapi.RemoteCKAN(site.url, apikey=key).action.resource_create(
            package_id="population-residents", upload=("forged.csv", io.BytesIO(b"id_number\n1\n"))
        )
    assert (sorted(inbox.iterdir()) if inbox.exists() else []) == before


@pytest.mark.parametrize("bad", HOSTILE_PARTS, ids=range(len(HOSTILE_PARTS)))
def test_hostile_parts_in_a_data_docs_path_are_refused(hub: tuple[Site, Path], bad: str) -> None:
    """The Data Docs route serves files of the dataset's site only: every hostile part, alone,
    under a real folder of the site, once or twice encoded, is a 4xx that carries no other file."""
    site, canary = hub
    base = f"{site.url}/api/v1/datasets/population-residents/quality/docs"
    with httpx.Client(headers={"X-API-Key": site.keys["steward"]}) as client:
        assert client.get(f"{base}/index.html").status_code == 200, "the real site is served"
        for once in (quote(bad, safe=""), quote(quote(bad, safe=""), safe=""), quote(bad, safe="/")):
            for url in (f"{base}/{once}", f"{base}/static/{once}", f"{base}/static/{once}/index.html"):
                got = client.get(url)
                assert b"SQLite format" not in got.content and b"untouched" not in got.content
                sent = got.request.url.raw_path.decode()
                if got.status_code < 400:  # the client resolved a plain "x/.." itself: a page of the site
                    inside = "/api/v1/datasets/population-residents/quality/docs"
                    if sent == "/api/v1/datasets/population-residents/quality":  # "docs/..": the counts, JSON
                        assert got.headers["content-type"] == "application/json", (url, sent)
                        continue
                    assert sent == inside or sent.startswith(f"{inside}/"), (url, sent, got.status_code)
                    assert "%2e" not in sent.lower() and "%5c" not in sent.lower() and "%00" not in sent.lower()
                    continue
                assert 400 <= got.status_code < 500, (url, got.status_code)
    _outside_untouched(site, canary)


def test_a_symlink_planted_in_the_data_docs_site_is_not_followed_out(hub: tuple[Site, Path]) -> None:
    site, canary = hub
    root = site.settings.data_docs_dir / "population.residents"
    (root / "leak.html").symlink_to(canary)
    (root / "up").symlink_to(site.settings.resolved_home)
    try:
        with httpx.Client(headers={"X-API-Key": site.keys["steward"]}) as client:
            base = f"{site.url}/api/v1/datasets/population-residents/quality/docs"
            for path in ("leak.html", "up/hub.db", "up/quality"):
                got = client.get(f"{base}/{path}")
                assert got.status_code == 400 and b"untouched" not in got.content, path
                assert b"SQLite format" not in got.content
    finally:
        (root / "leak.html").unlink()
        (root / "up").unlink()
    _outside_untouched(site, canary)
