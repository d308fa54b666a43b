"""Read actions through the real ckanapi client: search (Chinese too), facets, groups, activity."""

from __future__ import annotations

from collections.abc import Iterator

import ckanapi
import httpx
import pytest

from tests.catalog.sites import Site, site


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with site(tmp_path_factory.mktemp("read"), rows=40) as s:
        steward = ckanapi.RemoteCKAN(s.url, apikey=s.keys["steward"])
        steward.action.organization_create(name="dept-open", title="区数据局", department_code="11010100099")
        steward.action.group_create(name="grid", title="网格化管理", title_en="Grid management")
        steward.action.package_create(
            name="street-offices",
            title="街道办事处名录",
            title_en="Street offices",
            notes="东城区17个街道办事处的名称与地址。",
            owner_org="dept-open",
            tags=[{"name": "街道"}, {"name": "名录"}],
            groups=[{"name": "grid"}, {"name": "spatial"}],
            open_type="无条件开放",
            sharing_type="无条件共享",
            update_frequency="yearly",
            fields=[{"name": "street_code", "title": "街道代码"}, {"name": "office_name", "title": "办事处名称"}],
            resources=[{"name": "名录 CSV", "url": "https://example.org/streets.csv", "format": "CSV"}],
        )
        yield s


@pytest.fixture(params=[False, True], ids=["post", "get"])
def ckan(request: pytest.FixtureRequest, hub: Site) -> ckanapi.RemoteCKAN:
    return ckanapi.RemoteCKAN(hub.url, apikey=hub.keys["consumer"], get_only=request.param)


def _names(result: dict) -> list[str]:
    return [p["name"] for p in result["results"]]


@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("人口", ["population-residents"]),  # a part of 常住人口
        ("常住人口", ["population-residents"]),
        ("population", ["population-residents"]),  # English tag
        ("Resident", ["population-residents"]),  # English title, any case
        ("公民身份号码", ["population-residents"]),  # a field title
        ("id_number", ["population-residents"]),  # a field name
        ("jiedao", ["street-offices"]),  # pinyin of a tag and the title (pypinyin), no pinyin tag needed
        ("jdbsc", ["street-offices"]),  # initials of the title
        ("街道", ["population-residents", "street-offices"]),  # 街道代码 is a field of both
        ("街道办事处名录", ["street-offices"]),
        ("东城 常住", ["population-residents"]),  # every word must match
        ("常住人口基础数据", ["population-residents"]),  # most two-character pieces occur
        ("火星人口", []),
    ],
)
def test_search_finds_chinese_pinyin_and_english(ckan: ckanapi.RemoteCKAN, q: str, found: list[str]) -> None:
    assert sorted(_names(ckan.action.package_search(q=q))) == found


def test_private_datasets_only_for_identified_callers(hub: Site) -> None:
    anonymous = ckanapi.RemoteCKAN(hub.url)
    assert _names(anonymous.action.package_search(q="")) == ["street-offices"]
    assert anonymous.action.package_list() == ["street-offices"]
    ckan = ckanapi.RemoteCKAN(hub.url, apikey=hub.keys["consumer"])
    assert ckan.action.package_search()["count"] == 2
    assert _names(ckan.action.package_search(include_private=False)) == ["street-offices"]
    with pytest.raises(ckanapi.NotAuthorized):
        anonymous.action.package_activity_list(id="population-residents")


@pytest.mark.parametrize(
    ("fq", "found"),
    [
        ("organization:dept-11010100001", ["population-residents"]),
        ("tags:街道", ["street-offices"]),
        ("groups:population", ["population-residents"]),
        ("groups:grid", ["street-offices"]),
        ("res_format:CSV", ["street-offices"]),
        ("res_format:Parquet", ["population-residents"]),
        ('sharing_type:"有条件共享"', ["population-residents"]),
        ("open_type:无条件开放", ["street-offices"]),
        ("update_frequency:monthly", ["population-residents"]),
        ("-groups:grid", ["population-residents"]),
        ("capacity:private", ["population-residents"]),
        ("groups:spatial res_format:CSV", ["street-offices"]),
    ],
)
def test_fq_filters(ckan: ckanapi.RemoteCKAN, fq: str, found: list[str]) -> None:
    assert sorted(_names(ckan.action.package_search(fq=fq))) == found


def test_facets_sort_and_paging(hub: Site) -> None:
    ckan = ckanapi.RemoteCKAN(hub.url, apikey=hub.keys["consumer"])
    result = ckan.action.package_search(**{"facet.field": '["organization", "groups", "sharing_type", "tags"]'})
    assert result["facets"]["groups"] == {"population": 1, "grid": 1, "spatial": 1}
    assert result["facets"]["sharing_type"] == {"有条件共享": 1, "无条件共享": 1}
    orgs = {i["name"]: i for i in result["search_facets"]["organization"]["items"]}
    assert orgs["dept-open"]["display_name"] == "区数据局" and orgs["dept-open"]["count"] == 1
    limited = ckan.action.package_search(**{"facet.field": ["tags"], "facet.limit": 2})
    assert len(limited["search_facets"]["tags"]["items"]) == 2
    by_name = _names(ckan.action.package_search(sort="name asc"))
    assert by_name == ["population-residents", "street-offices"]
    assert _names(ckan.action.package_search(sort="name desc")) == by_name[::-1]
    page = ckan.action.package_search(sort="name asc", rows=1, start=1)
    assert page["count"] == 2 and _names(page) == ["street-offices"]
    assert ckan.action.package_search(rows=5000)["count"] == 2  # rows are capped, not refused


@pytest.mark.parametrize(
    ("params", "status", "kind", "error"),
    [
        ({"fq": "colour:red"}, 409, "Search Error", ckanapi.SearchError),
        ({"q": 'title:"unbalanced'}, 409, "Search Error", ckanapi.SearchError),
        ({"sort": "colour asc"}, 400, "Search Query Error", ckanapi.SearchQueryError),
    ],
    ids=["unknown-fq-field", "unbalanced-quote", "unknown-sort"],
)
def test_bad_search_errors_as_in_ckan(hub: Site, params: dict, status: int, kind: str, error: type) -> None:
    """CKAN: a query Solr refuses is 409 Search Error; a sort it cannot read, 400 Search Query Error."""
    with pytest.raises(error):
        ckanapi.RemoteCKAN(hub.url).action.package_search(**params)
    response = httpx.post(hub.url + "/api/3/action/package_search", json=params)
    assert response.status_code == status and response.json()["error"]["__type"] == kind


def test_bad_paging_numbers_are_validation_errors_as_in_ckan(hub: Site) -> None:
    """CKAN validates rows/start with its schema (natural_number_validator): 409 Validation Error."""
    with pytest.raises(ckanapi.ValidationError):
        ckanapi.RemoteCKAN(hub.url).action.package_search(rows="many")
    response = httpx.post(hub.url + "/api/3/action/package_search", json={"start": -1})
    assert response.status_code == 409 and response.json()["error"]["start"]


def test_organizations_groups_tags_resources(ckan: ckanapi.RemoteCKAN) -> None:
    assert ckan.action.organization_list() == ["dept-11010100001", "dept-open"]
    orgs = {o["name"]: o for o in ckan.action.organization_list(all_fields=True)}
    assert orgs["dept-11010100001"]["package_count"] == 1 and orgs["dept-open"]["department_code"] == "11010100099"
    police = ckan.action.organization_show(id="11010100001", include_datasets=True)
    assert [p["name"] for p in police["packages"]] == ["population-residents"]
    groups = ckan.action.group_list()
    assert {"population", "legal_entity", "spatial", "economy", "buildings", "grid"} == set(groups)
    domains = {g["name"]: g for g in ckan.action.group_list(all_fields=True)}
    assert domains["population"]["title"] == "人口" and domains["population"]["package_count"] == 1
    assert domains["grid"]["kind"] == "theme" and domains["legal_entity"]["kind"] == "domain"
    shown = ckan.action.group_show(id="grid", include_datasets=True)
    assert [p["name"] for p in shown["packages"]] == ["street-offices"]
    assert {"人口", "常住人口", "名录", "街道"} <= set(ckan.action.tag_list())
    assert ckan.action.tag_list(query="人口") == ["人口", "常住人口"]
    pkg = ckan.action.package_show(id="street-offices")
    res = ckan.action.resource_show(id=pkg["resources"][0]["id"])
    assert res["url"] == "https://example.org/streets.csv" and res["package_id"] == pkg["id"]
    with pytest.raises(ckanapi.NotFound):
        ckan.action.resource_show(id="nope")
    with pytest.raises(ckanapi.NotFound):
        ckan.action.organization_show(id="nope")
    with pytest.raises(ckanapi.NotFound):
        ckan.action.group_show(id="nope")


def test_national_catalogue_elements_are_typed_fields(ckan: ckanapi.RemoteCKAN) -> None:
    pkg = ckan.action.package_show(id="population-residents")
    assert pkg["resource_code"] == "101/000001"
    assert pkg["resource_classification"] == {
        "class_code": "1",
        "class_name": "基础信息资源",
        "item_code": "01",
        "item_name": "人口",
    }
    assert (pkg["provider"], pkg["provider_code"]) == ("东城区公安分局", "11010100001")
    assert pkg["abstract"].startswith("东城区常住人口") and pkg["formats"] == ["JSON", "Parquet"]
    items = {i["name"]: i for i in pkg["information_items"]}
    assert items["id_number"] == {
        "name": "id_number",
        "title": "公民身份号码",
        "data_type": "字符型C",
        "type": "string",
        "classification": "sensitive",
        "primary_key": True,
    }
    assert items["birth_date"]["data_type"] == "日期型D"
    assert (pkg["sharing_type"], pkg["open_type"]) == ("有条件共享", "不予开放")
    assert pkg["sharing_condition"].startswith("经数据管理员审批") and pkg["sharing_method"] == ["接口", "库表"]
    assert (pkg["update_frequency"], pkg["update_frequency_label"]) == ("monthly", "每月")
    assert pkg["release_date"] == pkg["versions"][0]["published_at"][:10]
    assert pkg["related_resource_codes"] == []
    assert pkg["versions"][0]["row_count"] == 40 and pkg["versions"][0]["quality"]["rows_read"] == 40
    assert pkg["versions"][0]["lineage"]["source_file"] == "v1.csv"
    extras = {e["key"]: e["value"] for e in pkg["extras"]}
    assert extras["resource_code"] == "101/000001" and extras["sharing_type"] == "有条件共享"
    assert all(isinstance(v, str) for v in extras.values())
    other = ckan.action.package_show(id="street-offices")
    assert other["resource_code"] == "103/000001", "first catalogue dataset in the spatial domain"


def test_activity_lists_pipeline_changes(ckan: ckanapi.RemoteCKAN) -> None:
    acts = ckan.action.package_activity_list(id="population-residents")
    assert [a["activity_type"] for a in acts] == ["changed package", "new package"]
    assert acts[0]["data"]["message"].startswith("version 1 published: 40 rows")
    assert acts[0]["user_name"] == "pipeline" and acts[0]["data"]["package"]["name"] == "population-residents"
    assert len(ckan.action.package_activity_list(id="population-residents", limit=1)) == 1


def test_help_users_and_get_only_refuses_writes(hub: Site) -> None:
    ckan = ckanapi.RemoteCKAN(hub.url, apikey=hub.keys["consumer"])
    assert "free text" in ckan.action.help_show(name="package_search")
    me = ckan.action.user_show()
    assert me["name"] == "grid-app" and me["sysadmin"] is False
    with pytest.raises(ckanapi.NotAuthorized):
        ckan.action.user_show(id="steward-wang")
    with pytest.raises(ckanapi.NotAuthorized):
        ckan.action.user_list()
    steward = ckanapi.RemoteCKAN(hub.url, apikey=hub.keys["steward"])
    assert "grid-app" in [u["name"] for u in steward.action.user_list()]
    get_only = ckanapi.RemoteCKAN(hub.url, apikey=hub.keys["steward"], get_only=True)
    with pytest.raises(ckanapi.CKANAPIError) as err:
        get_only.action.package_create(name="x-y", owner_org="dept-open")
    assert "Please use POST method" in str(err.value)
