"""The catalogue on SQLite and PostgreSQL: groups, resource codes, activity, search, migrations."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from catalog import activity, db, profile, search, service
from catalog.errors import SearchError, SearchQueryError
from catalog.models import Dataset
from contracts import model
from hub.settings import get_settings

CONTRACTS = {c.id: c for c in model.load_all(get_settings().contracts_dir)}
ORDER = [
    "population.residents",
    "population.households",
    "legal_entity.enterprises",
    "buildings.buildings",
    "spatial.grids",
    "economy.tax_monthly",
    "derived.entity_location",
    "derived.building_economy",
]


def test_codes_groups_and_related_codes_follow_the_rule(database_url: str) -> None:
    with db.session(database_url) as s:
        for cid in ORDER:
            service.register_dataset(s, CONTRACTS[cid])
    with db.session(database_url) as s:
        ds = {cid: service.dataset(s, cid) for cid in ORDER}
        codes = {cid: d.resource_code for cid, d in ds.items()}
        assert codes["population.residents"] == "101/000001"
        assert codes["population.households"] == "101/000002"
        assert codes["legal_entity.enterprises"] == "102/000001"
        assert codes["spatial.grids"] == "103/000001"
        assert codes["economy.tax_monthly"] == "106/000001"
        assert codes["buildings.buildings"] == "107/000001"
        assert codes["derived.entity_location"] == "201/000001", "主题信息资源, theme 楼宇经济"
        assert codes["derived.building_economy"] == "201/000002"
        assert [g.name for g in ds["buildings.buildings"].groups] == ["buildings"]
        assert [(g.name, g.kind) for g in ds["derived.building_economy"].groups] == [("building-economy", "theme")]
        record = profile.record(ds["derived.entity_location"])
        assert record.resource_classification.class_name == "主题信息资源"
        assert record.related_resource_codes == ["102/000001", "107/000001", "103/000001"]
        assert record.update_frequency_label == "随来源数据更新"
        items = {i.name: i.data_type for i in profile.record(ds["buildings.buildings"]).information_items}
        assert "空间几何型" in items.values()


def test_register_records_activity_only_on_change(database_url: str) -> None:
    contract = CONTRACTS["population.residents"]
    with db.session(database_url) as s:
        ds = service.register_dataset(s, contract)
        service.register_dataset(s, contract)
        assert [a.activity_type for a in activity.for_dataset(s, ds)] == [activity.NEW]
        modified = ds.modified
        service.register_dataset(s, contract.model_copy(update={"title": "常住人口信息", "version": "1.1.0"}))
        acts = activity.for_dataset(s, ds)
        assert [a.activity_type for a in acts] == [activity.CHANGED, activity.NEW]
        assert acts[0].data["message"] == "contract population.residents 1.1.0 changed: contract_version, title"
        assert ds.modified > modified and "常住人口信息" in ds.search_text
        service.record_version(
            s,
            contract,
            snapshot_id=1,
            row_count=5,
            rows_rejected=1,
            source_file="a.csv",
            source_sha256="a" * 64,
            quality={},
        )
        assert activity.for_dataset(s, ds, limit=1)[0].data["version"] == 1


def test_a_catalogue_entry_made_first_is_adopted_by_its_contract(database_url: str, tmp_path: Path) -> None:
    from catalog import editing
    from catalog.models import ApiClient

    steward = ApiClient(id="s", name="s", role="steward")
    with db.session(database_url) as s:
        org = service.register_dataset(s, CONTRACTS["legal_entity.enterprises"]).organization
        # made before the contract existed (here: a contracts folder without it)
        early = editing.create_package(s, {"name": "spatial-grids", "owner_org": org.id}, steward, tmp_path)
        adopted = service.register_dataset(s, CONTRACTS["spatial.grids"])
        assert adopted.id == early.id and adopted.from_contract and adopted.key == "spatial.grids"
        assert adopted.title == CONTRACTS["spatial.grids"].title and adopted.resource_code == "300/000001"


@pytest.mark.parametrize(
    ("q", "fq", "error"),
    [
        ("", "colour:red", "unknown field 'colour'"),
        ("", "(tags:x", "unmatched parenthesis"),
        ('title:"open', "", "Illegal character"),
        ("", "metadata_modified:[last week TO *]", "Syntax error"),
        ("", "metadata_modified:[yesterday TO *]", "not a date"),
    ],
)
def test_search_syntax_errors(q: str, fq: str, error: str) -> None:
    with pytest.raises(SearchError, match=error):
        search.build_query({"q": q, "fq": fq})


def test_search_limits_and_bad_sorts_are_query_errors() -> None:
    with pytest.raises(SearchQueryError, match="deeper"):
        search.build_query({"fq": "(" * 9 + "tags:x" + ")" * 9})
    with pytest.raises(SearchQueryError, match="cannot sort"):
        search.build_query({"sort": "colour asc"})
    assert search.free_words('"open') == ["open"], "q without a field forgives a stray quote, as dismax does"


def test_migration_0002_backfills_datasets_registered_before_it(database_url: str) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(db.MIGRATIONS))
    with db.engine(database_url).begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.execute(
            text(
                "INSERT INTO organizations (id, name, code, title, description, created) "
                "VALUES ('o1', 'dept-1', '1', '公安', '', CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO datasets (id, key, name, title, notes, domain, organization_id, contract_version, "
                "sharing_type, open_type, update_frequency, tags, fields, private, state, created, modified) "
                "VALUES ('d1', 'population.residents', 'population-residents', '常住人口', '', 'population', 'o1', "
                "'1.0.0', '有条件共享', '不予开放', 'monthly', '[\"人口\"]', '[{\"name\": \"id_number\"}]', TRUE, "
                "'active', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
    db.migrate(database_url)
    with db.session(database_url) as s:
        ds = s.get(Dataset, "d1")
        assert ds is not None and ds.resource_code == "101/000001" and ds.origin == "contract"
        assert [g.name for g in ds.groups] == ["population"] and "人口" in ds.search_text
        groups = s.execute(text("SELECT name FROM groups WHERE kind = 'domain' ORDER BY name")).scalars().all()
        assert groups == ["buildings", "economy", "legal_entity", "population", "spatial"]


def test_versions_carry_extra_lineage(database_url: str) -> None:
    with db.session(database_url) as s:
        version = service.record_version(
            s,
            CONTRACTS["derived.entity_location"],
            snapshot_id=9,
            row_count=3,
            rows_rejected=0,
            source_file="build",
            source_sha256="b" * 64,
            quality={},
            lineage={"inputs": {"legal_entity.enterprises": "7"}},
        )
        assert version.lineage == {
            "source_file": "build",
            "source_sha256": "b" * 64,
            "submitted_by": "pipeline",
            "inputs": {"legal_entity.enterprises": "7"},
        }
