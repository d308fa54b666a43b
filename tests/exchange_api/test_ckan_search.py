"""package_search as harvesters and portals send it: Solr fq syntax, ranges, pinyin, hostile input.

The queries come from what ckanext-harvest's CKAN harvester sends (``fq`` of
``organization:a OR organization:b``, ``-groups:x``, ``metadata_modified:[2024-...Z TO *]``,
the terms joined as ``(... OR ...)`` in its newest version, ``sort=id asc``), what portals and
ckanapi send (``+dataset_type:dataset``, ``*:*``, ``fq_list``), through the real ckanapi client
against a live hub.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

import ckanapi
import httpx
import pytest
from sqlalchemy import update

from catalog import db
from catalog.models import Dataset
from tests.catalog.sites import Site, site

UTC = dt.UTC


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with site(tmp_path_factory.mktemp("search"), rows=20) as s:
        steward = ckanapi.RemoteCKAN(s.url, apikey=s.keys["steward"])
        steward.action.organization_create(name="dept-open", title="区数据局", department_code="11010100099")
        steward.action.organization_create(name="dept-transport", title="区交通委", department_code="11010100098")
        steward.action.group_create(name="grid", title="网格化管理", title_en="Grid management")
        steward.action.package_create(
            name="street-offices",
            title="街道办事处名录",
            notes="东城区17个街道办事处的名称与地址。",
            owner_org="dept-open",
            tags=[{"name": "街道"}, {"name": "办事处"}],
            groups=[{"name": "grid"}, {"name": "spatial"}],
            license_id="cc-by",
            resources=[{"name": "名录 CSV", "url": "https://example.org/streets.csv", "format": "CSV"}],
        )
        steward.action.package_create(
            name="bus-stops",
            title="公交站点",
            notes="公交线路与站点位置。",
            owner_org="dept-transport",
            tags=[{"name": "公交"}, {"name": "交通"}, {"name": "站点"}],
            groups=[{"name": "spatial"}],
            resources=[
                {"name": "站点 GeoJSON", "url": "https://example.org/stops.geojson", "format": "GeoJSON"},
                {"name": "站点 CSV", "url": "https://example.org/stops.csv", "format": "CSV"},
                {"name": "线路 CSV", "url": "https://example.org/lines.csv", "format": "CSV"},
            ],
        )
        steward.action.package_create(
            name="census-2020",
            title="第七次人口普查汇总",
            notes="按街道汇总的人口普查结果。",
            owner_org="dept-open",
            tags=[{"name": "人口普查"}],
        )
        times = {  # when each was created and last changed (the rest: now)
            "street-offices": ("2023-05-01T08:00:00", "2024-03-01T08:00:00"),
            "bus-stops": ("2025-01-01T00:00:00", "2025-06-15T12:30:00"),
            "census-2020": ("2021-01-01T00:00:00", "2023-01-01T00:00:00"),
        }
        with db.session(s.settings.db_url) as session:
            for name, (created, modified) in times.items():
                session.execute(
                    update(Dataset)
                    .where(Dataset.name == name)
                    .values(
                        created=dt.datetime.fromisoformat(created).replace(tzinfo=UTC),
                        modified=dt.datetime.fromisoformat(modified).replace(tzinfo=UTC),
                    )
                )
        yield s


ALL = ["bus-stops", "census-2020", "population-residents", "street-offices"]


@pytest.fixture(params=[False, True], ids=["post", "get"])
def ckan(request: pytest.FixtureRequest, hub: Site) -> ckanapi.RemoteCKAN:
    return ckanapi.RemoteCKAN(hub.url, apikey=hub.keys["consumer"], get_only=request.param)


def _names(result: dict) -> list[str]:
    return sorted(p["name"] for p in result["results"])


HARVESTER_FQ = [
    # ckanext-harvest: changes since the last run (isoformat() of a UTC datetime, then "Z")
    ("metadata_modified:[2024-01-01T00:00:00Z TO *]", ["bus-stops", "population-residents", "street-offices"]),
    ("metadata_modified:[2025-06-15T11:30:00.123456Z TO *]", ["bus-stops", "population-residents"]),
    ("metadata_modified:[2025-07-01T00:00:00Z TO *]", ["population-residents"]),
    # organizations_filter_include / _exclude, groups_filter_include / _exclude
    ("organization:dept-open OR organization:dept-transport", ["bus-stops", "census-2020", "street-offices"]),
    ("-organization:dept-open", ["bus-stops", "population-residents"]),
    ("-organization:dept-open -organization:dept-transport", ["population-residents"]),
    ("groups:grid OR groups:population", ["population-residents", "street-offices"]),
    ("-groups:spatial", ["census-2020", "population-residents"]),
    # the newest harvester joins its terms as (a OR b)
    (
        "(organization:dept-transport OR metadata_modified:[2025-07-01T00:00:00Z TO *])",
        ["bus-stops", "population-residents"],
    ),
    # portals and ckanapi
    ("+dataset_type:dataset", ALL),
    ("*:*", ALL),
    ("+capacity:public +state:active", ["bus-stops", "census-2020", "street-offices"]),
    ('organization:"dept-open" AND tags:"街道"', ["street-offices"]),
    ("tags:(公交 OR 人口普查)", ["bus-stops", "census-2020"]),
    ("res_format:CSV AND NOT groups:grid", ["bus-stops"]),
    ("res_format:CSV && num_resources:[2 TO *]", ["bus-stops"]),
    ("license_id:cc-by", ["street-offices"]),
    ("license_id:gov-sharing -res_format:*", ["census-2020"]),
    # ranges: exclusive and open ends, dates without time, NOW and date math, numbers
    ("metadata_modified:{2024-03-01T08:00:00Z TO *]", ["bus-stops", "population-residents"]),
    ("metadata_modified:[* TO 2024-03-01T08:00:00Z]", ["census-2020", "street-offices"]),
    ("metadata_modified:[* TO 2024-03-01T08:00:00Z}", ["census-2020"]),
    ("metadata_created:[2022-01-01 TO 2025-12-31]", ["bus-stops", "street-offices"]),
    ("metadata_modified:[NOW-1DAY TO NOW+1DAY]", ["population-residents"]),
    ("metadata_modified:[NOW/DAY-7DAYS TO *]", ["population-residents"]),
    ("metadata_created:[* TO NOW-1YEAR]", ["bus-stops", "census-2020", "street-offices"]),
    ("num_resources:[3 TO *]", ["bus-stops"]),
    ("num_resources:0", ["census-2020"]),
    ("num_resources:{0 TO 2]", ["population-residents", "street-offices"]),
    ("num_tags:[3 TO 3]", ["bus-stops"]),
    # wildcards and text fields
    ("name:bus*", ["bus-stops"]),
    ("title:人口", ["census-2020", "population-residents"]),
    ("notes:普查", ["census-2020"]),
    ("res_name:线路", ["bus-stops"]),
    ("普查", ["census-2020"]),  # a bare word searches the text, as Solr's default field
]


@pytest.mark.parametrize(("fq", "found"), HARVESTER_FQ, ids=[f for f, _ in HARVESTER_FQ])
def test_fq_as_harvesters_and_portals_send_it(ckan: ckanapi.RemoteCKAN, fq: str, found: list[str]) -> None:
    result = ckan.action.package_search(fq=fq, rows=100)
    assert _names(result) == found and result["count"] == len(found)


def test_the_harvester_gather_request_pages_by_id(hub: Site) -> None:
    """ckanext-harvest's request as it sends it: GET, fq in parentheses, sort=id asc, rows and start."""
    params = {
        "fq": "(-organization:dept-open OR metadata_modified:[2025-01-01T00:00:00Z TO *])",
        "sort": "id asc",
        "rows": "1",
        "start": "0",
    }
    seen = []
    while True:
        page = httpx.get(f"{hub.url}/api/3/action/package_search", params=params).json()["result"]["results"]
        if not page:
            break
        seen += [p["id"] for p in page]
        params["start"] = str(int(params["start"]) + 1)
    assert seen == sorted(seen) and len(seen) == 1, "anonymous: the private residents are not listed"


def test_fq_list_and_q_with_fields(ckan: ckanapi.RemoteCKAN) -> None:
    both = ckan.action.package_search(fq_list=["groups:spatial", "res_format:GeoJSON"])
    assert _names(both) == ["bus-stops"]
    assert _names(ckan.action.package_search(q="tags:街道 OR tags:公交")) == ["bus-stops", "street-offices"]
    assert _names(ckan.action.package_search(q="title:人口 AND -organization:dept-open")) == ["population-residents"]
    assert _names(ckan.action.package_search(q="*:*", fq="num_resources:[3 TO *]")) == ["bus-stops"]
    assert _names(ckan.action.package_search(q="公交 OR 街道", fq="*:*")) == []  # no field: dismax words, all


PINYIN = [
    ("renkou", ["census-2020", "population-residents"]),  # 人口 in 常住人口, 人口普查
    ("rk", ["census-2020", "population-residents"]),  # initials of a title
    ("changzhurenkou", ["population-residents"]),
    ("RenKou", ["census-2020", "population-residents"]),
    ("jiedao", ["census-2020", "street-offices"]),  # 街道: a tag; a word in a description
    ("gongjiao", ["bus-stops"]),
    ("gjzd", ["bus-stops"]),  # 公交站点
    ("jiaotong", ["bus-stops"]),  # a tag
    ("pucha", ["census-2020"]),  # 普查 in the description
    ("renkou pucha", ["census-2020"]),
    ("zzzq", []),
]


@pytest.mark.parametrize(("q", "found"), PINYIN, ids=[q for q, _ in PINYIN])
def test_pinyin_finds_chinese(ckan: ckanapi.RemoteCKAN, q: str, found: list[str]) -> None:
    assert _names(ckan.action.package_search(q=q)) == found


HOSTILE = [
    ("fq", "(organization:dept-open", 409),
    ("fq", "organization:dept-open)", 409),
    ("fq", "((((((((((tags:x))))))))))", 400),
    ("fq", "(" * 200 + "tags:x" + ")" * 200, 400),
    ("fq", "(" * 300, 400),
    ("fq", "colour:red", 409),
    ("fq", "metadata_modified:[yesterday TO *]", 409),
    ("fq", "metadata_modified:[2024-13-45T99:00:00Z TO *]", 409),
    ("fq", "metadata_modified:[NOW-1FORTNIGHT TO *]", 409),
    ("fq", "metadata_modified:[NOW+99999999YEARS TO *]", 409),
    ("fq", "num_resources:[many TO *]", 409),
    ("fq", "notes:[a TO b]", 409),
    ("fq", "[2024 TO *]", 409),
    ("fq", "tags:x~2", 409),
    ("fq", "tags:/.*/", 409),
    ("fq", "tags:x AND", 409),
    ("fq", "OR", 409),
    ("fq", "*:x", 409),
    ("fq", "a:b:c", 409),
    ("fq", "'; DROP TABLE datasets; --", 409),
    ("fq", "tags:x' OR '1'='1", 409),
    ("fq", "<script>alert(1)</script>", 409),
    ("fq", "tags:x" + " OR tags:x" * 40, 400),
    ("fq", "tags:" + "x" * 1000, 400),
    ("fq", "\\" * 399, 409),
    ("fq", "tags:" + "\\x" * 100, 400),
    ("fq", "人口" * 40, 400),
    ("q", 'title:"unbalanced', 409),
    ("q", "title:(人口", 409),
    ("q", "x" * 600, 400),
    ("sort", "colour asc", 400),
    ("sort", "name; DROP TABLE datasets", 400),
]


@pytest.mark.parametrize(("param", "value", "status"), HOSTILE, ids=[f"{p}={v[:40]}" for p, v, _ in HOSTILE])
def test_hostile_and_malformed_queries_answer_a_clean_error(hub: Site, param: str, value: str, status: int) -> None:
    """CKAN answers Solr's refusal of a query as 409 Search Error; a sort it cannot read as 400
    Search Query Error; the hub's size limits answer 400 Search Query Error. Never a 500."""
    started = time.monotonic()
    answer = httpx.post(hub.url + "/api/3/action/package_search", json={param: value})
    assert time.monotonic() - started < 2
    body = answer.json()
    assert answer.status_code == status and body["success"] is False, answer.text[:300]
    kind = "Search Error" if status == 409 else "Search Query Error"
    assert body["error"]["__type"] == kind and "Traceback" not in answer.text
    if status == 409:
        assert body["error"]["message"].startswith("Search error: Search Query is invalid: ")
    with pytest.raises(ckanapi.SearchError if status == 409 else ckanapi.SearchQueryError):
        ckanapi.RemoteCKAN(hub.url).action.package_search(**{param: value})
