"""Platform ratios on a generated district whose answers are known from its making.

The district: departments, their base datasets with versions recorded in the catalogue at chosen
times (the register step's own ``service.record_version``), sharing types, and grants to clients
of this or other departments made, expired and revoked at chosen times. The month judged is
October 2026. The expected ratios are counted here from the table below, by the rules of
docs/stewardship.md, not by the code under test.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from access import grants
from catalog import clients, db, service
from contracts import model
from contracts.model import Contract, Department, SharingType
from hub.cli import app
from hub.settings import Settings, get_settings
from quality.history import LOCAL
from stewardship import ratios
from tests.catalog.sites import issue_keys
from tests.conftest import LiveServer

MONTH = "2026-10"
NOW = dt.datetime(2026, 11, 15, 12, tzinfo=LOCAL)


def at(y: int, m: int, d: int) -> dt.datetime:
    return dt.datetime(y, m, d, 9, tzinfo=LOCAL)


@dataclass(frozen=True)
class GrantSpec:
    organization: str | None
    """The client's department (None: a client of no department)."""
    created: dt.datetime
    expires: dt.datetime
    revoked: dt.datetime | None = None


@dataclass(frozen=True)
class Spec:
    department: str
    frequency: str
    published: tuple[dt.datetime, ...]
    sharing: SharingType = SharingType.conditional
    grants: tuple[GrantSpec, ...] = ()
    derived: bool = False
    collected: bool = False
    """Known answer: on schedule at the end of October."""
    shared: bool = False
    """Known answer: shared with another department during October."""
    why: str = field(default="")


D1, D2, D3 = "9900000001", "9900000002", "9900000003"
POIS_OWNER = "11010100007"
"""spatial.pois is contracted but never published: a base dataset of its department, neither collected nor shared."""
NAMES = {D1: ("第一局", "First Bureau"), D2: ("第二局", "Second Bureau"), D3: ("第三局", "Third Bureau")}
YEAR_LONG = (at(2026, 1, 1), at(2027, 1, 1))

DISTRICT = [
    Spec(D1, "monthly", (at(2026, 10, 3),), SharingType.unconditional, collected=True, shared=True),
    Spec(D1, "monthly", (at(2026, 10, 20),), grants=(GrantSpec(D2, *YEAR_LONG),), shared=True, why="late"),
    Spec(
        D1,
        "monthly",
        (at(2026, 9, 3),),
        grants=(GrantSpec(D1, *YEAR_LONG), GrantSpec(D2, at(2026, 11, 2), at(2027, 1, 1))),
        why="October missing; grants: own department, and one made after October",
    ),
    Spec(
        D1,
        "quarterly",
        (at(2026, 10, 5),),
        grants=(GrantSpec(D3, at(2026, 1, 1), at(2027, 1, 1), revoked=at(2026, 9, 20)),),
        collected=True,
        why="Q4 due 31 October; grant revoked in September",
    ),
    Spec(D1, "monthly", (at(2026, 10, 3),), SharingType.unconditional, derived=True, why="derived: not counted"),
    *[
        Spec(D2, "monthly", (at(2026, 10, 2),), SharingType.unconditional, collected=True, shared=True)
        for _ in range(3)
    ],
    Spec(
        D2,
        "monthly",
        (at(2026, 9, 1), at(2026, 10, 2)),
        grants=(GrantSpec(D1, at(2026, 3, 1), at(2026, 10, 15)),),
        collected=True,
        shared=True,
        why="grant expired mid-October: live during it",
    ),
    Spec(D2, "monthly", (at(2026, 10, 10),), grants=(GrantSpec(None, *YEAR_LONG),), collected=True),
    Spec(D3, "yearly", (at(2026, 2, 1),), SharingType.not_shared, collected=True, why="2026 due 1 April"),
    Spec(D3, "irregular", (), SharingType.not_shared, why="never published"),
]


def expected() -> dict[str, tuple[int, int, int]]:
    """(base datasets, collected, shared) per department code, counted from the table, and ``all``."""
    out: dict[str, tuple[int, int, int]] = {}
    for spec in DISTRICT:
        if spec.derived:
            continue
        n, c, sh = out.get(spec.department, (0, 0, 0))
        out[spec.department] = (n + 1, c + spec.collected, sh + spec.shared)
    out[POIS_OWNER] = (1, 0, 0)
    out["all"] = tuple(sum(v[i] for v in out.values()) for i in range(3))  # type: ignore[assignment]
    return out


def test_the_known_answers_by_hand() -> None:
    # written out once, so the table above cannot drift from what the tests check
    assert expected() == {
        D1: (4, 2, 2),
        D2: (5, 5, 4),
        D3: (2, 1, 0),
        POIS_OWNER: (1, 0, 0),
        "all": (12, 8, 6),
    }


def _contract(base: Contract, n: int, spec: Spec) -> Contract:
    name, name_en = NAMES[spec.department]
    domain = "derived" if spec.derived else "population"
    return base.model_copy(
        update={
            "id": f"{domain}.district_{n:02d}",
            "table": f"district_{n:02d}",
            "domain": domain,
            "title": f"数据集{n:02d}",
            "department": Department(code=spec.department, name=name, name_en=name_en),
            "update_frequency": spec.frequency,
            "sharing_type": spec.sharing,
            "derived_from": ["population.district_00"] if spec.derived else [],
            "builder": "derived.none:build" if spec.derived else None,
            "path": None,
        }
    )


def make_district(settings: Settings) -> None:
    base = model.find(Settings().contracts_dir, "population.residents")
    with db.session(settings.db_url) as s:
        steward = clients.ensure_client(s, "district-steward", role="steward")
        for n, spec in enumerate(DISTRICT):
            contract = _contract(base, n, spec)
            ds = service.register_dataset(s, contract)
            ds.created = at(2026, 1, 1)
            for i, when in enumerate(spec.published):
                service.record_version(
                    s,
                    contract,
                    snapshot_id=1000 * n + i,
                    row_count=10,
                    rows_rejected=0,
                    source_file=f"export-{i}.csv",
                    source_sha256=f"{n:02d}{i:062d}",
                    quality={"rows_read": 10, "rows_accepted": 10, "rows_rejected": 0},
                    published_at=when,
                    lineage={"inputs": {"population.district_00": "1"}} if spec.derived else None,
                )
            for g, grant in enumerate(spec.grants):
                client = clients.ensure_client(s, f"client-{n}-{g}", organization=grant.organization)
                made = grants.create(s, client, contract, steward, fields=["street_code"], purpose="district report")
                made.created, made.expires, made.revoked = grant.created, grant.expires, grant.revoked


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str], Settings]]:
    root = Path(tmp_path_factory.mktemp("district"))
    folder = root / "contracts"
    folder.mkdir()
    shutil.copy(Settings().contracts_dir / "spatial.pois.yaml", folder)
    settings = Settings(home=root / "hub", contracts_dir=folder)
    settings.ensure_dirs()
    db.migrate(settings.db_url)
    make_district(settings)
    keys = issue_keys(settings)
    with LiveServer(settings) as server:
        yield server.url, keys, settings


def _counts(d: ratios.DepartmentRatios) -> tuple[int, int, int]:
    return (d.base_datasets, d.collected, d.shared)


def test_ratios_of_the_generated_district(district: tuple) -> None:
    _, _, settings = district
    with db.session(settings.db_url) as s:
        report = ratios.ratios(s, MONTH, now=NOW, contracts=model.load_all(settings.contracts_dir))
    want = expected()
    got = {d.code: _counts(d) for d in [*report.departments, report.overall]}
    assert got == want
    for d in [*report.departments, report.overall]:
        n, c, sh = want[d.code]
        assert d.collection_ratio == pytest.approx(c / n, abs=1e-4)
        assert d.sharing_ratio == pytest.approx(sh / n, abs=1e-4)
        assert d.collection_meets_target is (c / n >= 0.8)
        assert d.sharing_meets_target is (sh / n >= 0.8)
    second = next(d for d in report.departments if d.code == D2)
    assert second.sharing_ratio == 0.8 and second.sharing_meets_target, "exactly 80 % meets the target"
    first = next(d for d in report.departments if d.code == D1)
    assert [x.dataset for x in first.datasets if x.shared] == ["population.district_00", "population.district_01"]
    assert next(x for x in first.datasets if x.dataset == "population.district_01").shared_with == [D2]


def test_september_is_judged_on_september(district: tuple) -> None:
    _, _, settings = district
    with db.session(settings.db_url) as s:
        report = ratios.ratios(s, "2026-09", now=NOW)
    # D1: only district_02 published in September (the 3rd: on time); the quarterly one stands on
    # Q3, in which nothing was published (missing). D2: district_08 on 1 September, on time.
    got = {d.code: (d.base_datasets, d.collected) for d in report.departments}
    assert got[D1] == (4, 1) and got[D2] == (5, 1)


def test_months_and_bad_months() -> None:
    assert ratios.month_bounds("2026-12") == (
        dt.datetime(2026, 12, 1, tzinfo=LOCAL),
        dt.datetime(2027, 1, 1, tzinfo=LOCAL),
    )
    for bad in ("2026-13", "October", "2026-1"):
        with pytest.raises(ratios.BadParameter, match="YYYY-MM"):
            ratios.month_bounds(bad)


def test_the_api_gives_stewards_the_ratios(district: tuple) -> None:
    url, keys, _ = district
    answer = httpx.get(f"{url}/api/v1/reports/ratios", params={"month": MONTH}, headers={"X-API-Key": keys["steward"]})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    got = {
        d["code"]: (d["base_datasets"], d["collected"], d["shared"]) for d in [*body["departments"], body["overall"]]
    }
    assert got == expected() and body["target"] == 0.8
    consumer = httpx.get(f"{url}/api/v1/reports/ratios", headers={"X-API-Key": keys["consumer"]})
    assert consumer.status_code == 403
    assert httpx.get(f"{url}/api/v1/reports/ratios").status_code == 401
    bad = httpx.get(f"{url}/api/v1/reports/ratios", params={"month": "2026-13"}, headers={"X-API-Key": keys["steward"]})
    assert bad.status_code == 400 and "YYYY-MM" in bad.json()["error"]["message"]


def test_hub_report_ratios_writes_the_csv_and_the_chart(district: tuple, tmp_path: Path) -> None:
    _, _, settings = district
    out = tmp_path / "report"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HUB_HOME", str(settings.resolved_home))
        mp.setenv("HUB_CONTRACTS_DIR", str(settings.contracts_dir))
        mp.delenv("HUB_DATABASE_URL", raising=False)
        get_settings.cache_clear()
        try:
            result = CliRunner().invoke(app, ["report", "ratios", "--month", MONTH, "--out", str(out)])
        finally:
            get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "First Bureau" not in result.output and "第一局" in result.output
    table, chart = out / f"ratios-{MONTH}.csv", out / f"ratios-{MONTH}.png"
    with table.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    want = expected()
    assert [r["department_code"] for r in rows] == sorted(c for c in want if c != "all") + ["all"]
    for r in rows:
        n, c, sh = want[r["department_code"]]
        assert (int(r["base_datasets"]), int(r["collected"]), int(r["shared"])) == (n, c, sh)
        assert float(r["collection_ratio"]) == pytest.approx(c / n, abs=1e-4)
        assert r["sharing_meets_target"] == str(sh / n >= 0.8)
    data = chart.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "a PNG"
    width, height = struct.unpack(">II", data[16:24])
    assert 400 <= width <= 3000 and 300 <= height <= 2000, (width, height)
    assert 10_000 < len(data) < 2_000_000
