"""The OpenAPI document, fuzzed: no 5xx and no status or error shape the document does not declare.

schemathesis generates requests for every operation of ``/openapi.json`` (the exchange API
``/api/v1``, the CKAN action routes with every action name, DCAT, downloads), valid and invalid
ones, and sends them over HTTP to the real server with a consumer's key, in the header the
document's security scheme names. Operations on one dataset run once more pinned to the
published residents, so the records route's paging, cursor, field and filter parameters meet
real data. CKAN actions take their parameters outside the OpenAPI (as CKAN does), so a second
test fuzzes the read actions' parameters with Hypothesis and holds each answer to the statuses
and shapes the document declares for the action routes. Everything is bounded and deterministic
(a fixed number of examples, derandomized, no example database).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from exchange_api import ckan_api  # noqa: F401 - registers the actions
from exchange_api.ckan_actions import ACTIONS
from tests.catalog.sites import Site, site
from tests.published import DATASET

EXAMPLES = 12
"""Requests per operation and mode (about 20 operations, two modes, a third run for one dataset)."""
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
ACTION_ROUTE = "/api/3/action/{name}"


def bounded(examples: int) -> settings:
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    # every operation is fuzzed with the same keys: more requests a minute than the default limit allows
    with site(tmp_path_factory.mktemp("fuzz"), rows=20, rate_requests_per_minute=100_000) as s:
        yield s


@pytest.fixture(scope="module")
def api(hub: Site) -> Any:
    return schemathesis.openapi.from_url(hub.url + "/openapi.json")


@pytest.fixture(scope="module")
def spec(hub: Site) -> dict[str, Any]:
    return dict(httpx.get(hub.url + "/openapi.json").json())


def _fuzz(operation: Any, key: dict[str, str], mode: GenerationMode, **fixed: Any) -> None:
    @bounded(EXAMPLES)
    @given(case=operation.as_strategy(generation_mode=mode, **fixed))
    def run(case: Any) -> None:
        case.call_and_validate(headers=key, checks=CHECKS, timeout=20)

    run()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
def test_every_operation_answers_a_documented_status(hub: Site, api: Any, mode: GenerationMode) -> None:
    key = {"X-API-Key": hub.keys["consumer"]}
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 15
    runs: list[tuple[Any, dict[str, Any]]] = [(op, {}) for op in operations]
    runs += [(op, {"path_parameters": {"ref": DATASET}}) for op in operations if "{ref}" in op.path]
    failures: dict[str, str] = {}
    started = time.monotonic()
    for operation, fixed in runs:
        try:
            _fuzz(operation, key, mode, **fixed)
        except Unsatisfiable:  # no invalid value exists for this operation's parameters (free strings)
            assert mode is GenerationMode.NEGATIVE, operation.label
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collected: every operation is tried
            failures[f"{operation.label} {fixed or ''}"] = str(exc)[:3000]
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
    assert time.monotonic() - started < 90


# -- the CKAN read actions' own parameters -------------------------------------------------

READ_ACTIONS = sorted(name for name, act in ACTIONS.items() if act.read_only)
PARAMETERS = [
    "id",
    "name",
    "q",
    "fq",
    "fq_list",
    "rows",
    "start",
    "offset",
    "limit",
    "sort",
    "include_private",
    "facet.field",
    "facet.limit",
    "facet.mincount",
    "query",
    "all_fields",
    "include_datasets",
    "resource_id",
    "filters",
    "fields",
    "include_total",
    "user_id",
]
ODD = [
    "",
    " ",
    "true",
    "false",
    "null",
    "[]",
    "{}",
    '["organization", "tags"]',
    '{"sex": "1"}',
    "1e308",
    "NaN",
    "-0",
    "-1",
    "2147483648",
    str(2**63),
    str(10**30),
    "１２",
    "٣",
    "0x10",
    "*:*",
    "name asc, title desc",
    "organization:dept-11010100001",
    "-tags:人口",
    "常住人口 户籍",
    "%00",
    "\x00",
    "a" * 600,
]


@pytest.fixture(scope="module")
def known(hub: Site) -> list[str]:
    """Real references for the parameters to hit: dataset, resource, organization, group, user."""
    show = httpx.get(hub.url + "/api/3/action/package_show", params={"id": DATASET}, headers=_key(hub))
    assert show.status_code == 200, show.text
    package = show.json()["result"]
    refs = [package["id"], package["name"], DATASET, package["organization"]["name"], "population", "grid-app"]
    return refs + [r["id"] for r in package["resources"]]


def _key(hub: Site) -> dict[str, str]:
    return {"X-API-Key": hub.keys["consumer"]}


def _value(refs: list[str], json_body: bool) -> st.SearchStrategy[Any]:
    text = st.one_of(
        st.sampled_from(ODD + refs),
        st.text(max_size=30),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
    )
    if not json_body:
        return text
    return st.one_of(
        text, st.integers(min_value=-(2**70), max_value=2**70), st.booleans(), st.none(), st.lists(text, max_size=3)
    )


def test_ckan_read_actions_answer_documented_statuses(hub: Site, spec: dict[str, Any], known: list[str]) -> None:
    documented = {m: set(spec["paths"][ACTION_ROUTE][m]["responses"]) for m in ("get", "post")}
    assert "422" not in documented["get"] and "500" not in documented["get"]
    seen: dict[int, int] = {}

    @bounded(250)
    @given(data=st.data(), action=st.sampled_from(READ_ACTIONS), method=st.sampled_from(["get", "post"]))
    def run(data: st.DataObject, action: str, method: str) -> None:
        params = data.draw(st.dictionaries(st.sampled_from(PARAMETERS), _value(known, method == "post"), max_size=4))
        headers = _key(hub) if data.draw(st.booleans()) else {}
        url = f"{hub.url}/api/3/action/{action}"
        if method == "get":
            answer = httpx.get(url, params={k: v for k, v in params.items() if "\x00" not in v}, headers=headers)
        else:
            answer = httpx.post(url, json=params, headers=headers, timeout=20)
        seen[answer.status_code] = seen.get(answer.status_code, 0) + 1
        assert answer.status_code < 500, (action, params, answer.text[:300])
        assert str(answer.status_code) in documented[method], (action, params, answer.status_code, answer.text[:300])
        body = answer.json()
        assert body["success"] is (answer.status_code == 200), body
        if answer.status_code != 200:
            assert body["error"]["__type"] and set(body) == {"help", "success", "error"}, body

    run()
    assert seen.get(200, 0) > 50 and len(seen) >= 3, seen  # the fuzz reaches real answers, not only refusals
