"""A page read in windows of row numbers is the very page one top-N query over the whole copy
gives: the same rows, in the same order, masked the same, for every kind of filter, cursor and
size, including the pages that end the copy, filters that match nothing and keyed lookups."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from access.policy import Column, Policy
from access.query import PageQuery
from contracts import disclosure, model
from hub.settings import Settings
from warehouse import serving

ROWS = 5_000


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> tuple[Policy, serving.Store, Path]:
    root = tmp_path_factory.mktemp("serving")
    contract = model.find(Settings().contracts_dir, "population.residents")
    fields = {f.name: f for f in contract.fields}
    n = range(ROWS)
    data = pa.table(
        {
            "id_number": [f"11010119900101{i:04d}" for i in n],
            "name": [f"name{i}" for i in n],
            "street_code": [f"11010100{i % 7 + 1}" if i % 1_000 else "110101999" for i in n],
            "community_code": [f"c{i % 13}" for i in n],
            "phone": [f"1380000{i:04d}" for i in n],
        }
    )
    serving.build(root, contract, data, snapshot_id=1, version=1)
    released = disclosure.releases(contract, ("id_number",))
    columns = tuple(Column(fields[k], v) for k, v in released.items() if k in data.column_names)
    policy = Policy(contract.id, columns, frozenset())
    return policy, serving.Store(root), root


CASES = [
    ({}, None, None, 0, 101),
    ({}, None, None, 0, 1),
    ({}, None, None, 4_950, 101),  # the last page, shorter than asked
    ({}, None, None, ROWS, 10),  # past the end: empty
    ({"street_code": "110101003"}, None, None, 0, 101),
    ({"street_code": "110101003"}, None, None, 2_345, 1000),
    ({"street_code": "110101999"}, None, None, 0, 101),  # 5 rows spread over the copy
    ({"street_code": "110101999"}, None, None, 3_000, 2),
    ({"street_code": "nowhere"}, None, None, 0, 101),
    ({}, "name12", None, 0, 50),  # text search
    ({}, None, "community_code = 'c3'", 0, 101),  # a grant's row filter
    ({"street_code": "110101002"}, None, "community_code IN ('c1', 'c2') OR street_code = 'x'", 100, 101),
    ({"id_number": "110101199001010777"}, None, None, 0, 101),  # keyed: through the key index
    ({"id_number": "110101199001010777"}, None, None, 10_000, 101),
]


@pytest.mark.parametrize(("filters", "text", "row_filter", "after", "limit"), CASES)
@pytest.mark.parametrize("window", [PageQuery.WINDOW, 7])
def test_windowed_page_equals_one_query(
    copy: tuple[Policy, serving.Store, Path],
    monkeypatch: pytest.MonkeyPatch,
    filters: dict[str, str],
    text: str | None,
    row_filter: str | None,
    after: int,
    limit: int,
    window: int,
) -> None:
    base, store, _ = copy
    policy = Policy(base.dataset, base.columns, base.withheld, row_filter=row_filter)
    monkeypatch.setattr(PageQuery, "WINDOW", window)  # 7: many small windows, each 8x wider
    head, cur = store.cursor(policy.dataset)
    query = PageQuery(policy, list(policy.columns), filters=filters, text=text, after=after, limit=limit)
    sql, values = query.sql()
    expected = cur.execute(sql, values).fetchall()
    got = query.rows(cur, store.last_row(head.path, cur))
    assert got == expected
    assert all(r[0] > after for r in got)
    if filters.get("street_code") == "110101003" and after == 0:
        assert len(got) == limit, "a filtered page fills up across windows"


def test_last_row_is_the_row_count_and_rows_are_dense(copy: tuple[Policy, serving.Store, Path]) -> None:
    policy, store, _ = copy
    head, cur = store.cursor(policy.dataset)
    assert store.last_row(head.path, cur) == ROWS == head.row_count
    assert cur.execute(f"SELECT count(DISTINCT _row), min(_row) FROM {serving.TABLE}").fetchone() == (ROWS, 1)


def test_policy_masks_hold_on_windowed_pages(copy: tuple[Policy, serving.Store, Path]) -> None:
    """The default release masks the ID number; the windowed page shows the mask, not the value."""
    _, store, _ = copy
    contract = model.find(Settings().contracts_dir, "population.residents")
    fields = {f.name: f for f in contract.fields}
    released = disclosure.releases(contract)
    columns = tuple(Column(fields[k], v) for k, v in released.items() if k in ("id_number", "street_code"))
    policy = Policy(contract.id, columns, frozenset())
    head, cur = store.cursor(policy.dataset)
    rows = PageQuery(policy, list(columns), limit=20).rows(cur, store.last_row(head.path, cur))
    ids = [r[1 + [c.name for c in columns].index("id_number")] for r in rows]
    assert len(ids) == 20 and all("*" in i and not i.isdigit() for i in ids)


@pytest.mark.parametrize(
    ("filters", "row_filter"),
    [
        ({}, None),
        ({"street_code": "110101003"}, None),
        ({}, "community_code = 'c5'"),
        ({"street_code": "110101999"}, None),
    ],
)
def test_walking_every_page_gives_every_row_once(
    copy: tuple[Policy, serving.Store, Path],
    monkeypatch: pytest.MonkeyPatch,
    filters: dict[str, str],
    row_filter: str | None,
) -> None:
    base, store, _ = copy
    policy = Policy(base.dataset, base.columns, base.withheld, row_filter=row_filter)
    monkeypatch.setattr(PageQuery, "WINDOW", 3)
    head, cur = store.cursor(policy.dataset)
    last = store.last_row(head.path, cur)
    sql, values = PageQuery(policy, list(policy.columns), filters=filters, limit=ROWS).sql()
    everything = cur.execute(sql, values).fetchall()
    walked: list[tuple[object, ...]] = []
    after = 0
    while True:
        page = PageQuery(policy, list(policy.columns), filters=filters, after=after, limit=10).rows(cur, last)
        walked += page
        if len(page) < 10:
            break
        after = page[-1][0]
    assert walked == everything and len(walked) > 0


VERIFY = [
    ({"id_number": "110101199001010777"}, None),
    ({"id_number": "110101199001010777", "name": "name777"}, None),
    ({"id_number": "110101199001010777", "name": "name778"}, None),
    ({"id_number": "110101199001019999"}, None),  # no such key
    ({"id_number": "110101199001010777", "name": "name777"}, "community_code = 'c0'"),  # outside the grant
    ({"id_number": "110101199001010777", "name": "name777"}, f"community_code = 'c{777 % 13}'"),
    ({"id_number": "110101199001010001", "street_code": "110101999"}, None),
]


@pytest.mark.parametrize(("values", "row_filter"), VERIFY)
def test_verify_through_the_key_index_answers_as_a_scan(
    copy: tuple[Policy, serving.Store, Path], values: dict[str, str], row_filter: str | None
) -> None:
    from access.verify import Question

    base, store, _ = copy
    contract = model.find(Settings().contracts_dir, "population.residents")
    policy = Policy(base.dataset, base.columns, base.withheld, row_filter=row_filter)
    sql, params = Question(contract, policy, values).sql()
    assert sql.startswith("WITH keyed AS MATERIALIZED")
    _, cur = store.cursor(policy.dataset)
    scan = " AND ".join([*(f"{k} = ?" for k in values), *([f"({row_filter})"] if row_filter else [])])
    expected = cur.execute(f"SELECT EXISTS (SELECT 1 FROM records WHERE {scan})", list(values.values())).fetchone()
    assert cur.execute(sql, params).fetchone() == expected
