"""Quality history, freshness and score against generated histories: versions published on time,
late, and months with none, judged at a frozen ``now``; then the same through the real pipeline,
the API over HTTP and ``hub quality``."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from catalog import db, service
from catalog.models import Version
from generator import population, residents
from hub.cli import app
from hub.settings import Settings, get_settings
from quality import history
from quality.history import LOCAL, PeriodStatus, assess
from tests.catalog.sites import issue_keys
from tests.conftest import LiveServer
from tests.published import DATASET, publish_records


def at(y: int, m: int, d: int, h: int = 12) -> dt.datetime:
    return dt.datetime(y, m, d, h, tzinfo=LOCAL)


# A monthly dataset: January on time (the 3rd), February late (the 20th, after the 10th),
# March nothing, April on time twice (the 1st and the 9th), May judged on the 15th (due the 10th).
MONTHLY = [(1, at(2026, 1, 3)), (2, at(2026, 2, 20)), (3, at(2026, 4, 1)), (4, at(2026, 4, 9))]


def test_monthly_history_on_time_late_and_missing() -> None:
    fresh = assess("monthly", MONTHLY, now=at(2026, 5, 15))
    assert [(p.label, p.status, p.versions) for p in fresh.periods] == [
        ("2026-01", PeriodStatus.on_time, [1]),
        ("2026-02", PeriodStatus.late, [2]),
        ("2026-03", PeriodStatus.missing, []),
        ("2026-04", PeriodStatus.on_time, [3, 4]),
        ("2026-05", PeriodStatus.missing, []),
    ]
    assert fresh.late and not fresh.on_schedule and fresh.standing == "2026-05"
    assert fresh.counts == {"on_time": 2, "late": 1, "missing": 2, "pending": 0}
    assert fresh.periods[0].due == at(2026, 1, 11, 0)
    # five settled periods: 1 + 0.5 + 0 + 1 + 0
    assert history.freshness_term(fresh) == pytest.approx(2.5 / 5)


def test_before_the_due_day_the_month_is_pending_and_the_last_one_stands() -> None:
    fresh = assess("monthly", MONTHLY, now=at(2026, 5, 5))
    assert fresh.periods[-1].status is PeriodStatus.pending
    assert fresh.standing == "2026-04" and fresh.on_schedule and not fresh.late
    assert fresh.next_due == at(2026, 5, 11, 0)
    assert history.freshness_term(fresh) == pytest.approx(2.5 / 4)


def test_versions_after_now_are_not_seen() -> None:
    fresh = assess("monthly", MONTHLY, now=at(2026, 2, 15))
    assert [(p.label, p.status) for p in fresh.periods] == [
        ("2026-01", PeriodStatus.on_time),
        ("2026-02", PeriodStatus.missing),
    ]
    assert fresh.late and fresh.last_published == at(2026, 1, 3)


def test_period_boundaries_are_beijing_time() -> None:
    # 2026-03-31 17:00 UTC is 1 April 01:00 in Beijing: April's version, on time
    utc = dt.datetime(2026, 3, 31, 17, tzinfo=dt.UTC)
    fresh = assess("monthly", [(1, utc)], now=at(2026, 4, 20))
    assert [(p.label, p.status) for p in fresh.periods] == [("2026-04", PeriodStatus.on_time)]


@pytest.mark.parametrize(
    ("frequency", "published", "now", "labels", "late"),
    [
        (
            "daily",
            [at(2026, 3, 2), at(2026, 3, 4)],
            at(2026, 3, 4, 18),
            ["2026-03-02", "2026-03-03", "2026-03-04"],
            False,
        ),
        ("weekly", [at(2026, 3, 2), at(2026, 3, 13)], at(2026, 3, 14), ["2026-W10", "2026-W11"], True),
        ("quarterly", [at(2026, 1, 20), at(2026, 4, 2)], at(2026, 6, 30), ["2026-Q1", "2026-Q2"], False),
        ("yearly", [at(2025, 2, 1)], at(2026, 5, 1), ["2025", "2026"], True),
    ],
)
def test_other_frequencies(
    frequency: str, published: list[dt.datetime], now: dt.datetime, labels: list[str], late: bool
) -> None:
    fresh = assess(frequency, list(enumerate(published, 1)), now=now)
    assert [p.label for p in fresh.periods] == labels
    assert fresh.late is late
    expected = {
        "daily": [PeriodStatus.on_time, PeriodStatus.missing, PeriodStatus.on_time],
        # week 11 (Mon 9 March) is due Thursday 12 March 00:00; its version came on the 13th
        "weekly": [PeriodStatus.on_time, PeriodStatus.late],
        # Q1 due 31 January: the 20th is on time; Q2 on the 2nd of April, on time
        "quarterly": [PeriodStatus.on_time, PeriodStatus.on_time],
        # 2026 due 1 April (90 days): nothing by 1 May
        "yearly": [PeriodStatus.on_time, PeriodStatus.missing],
    }[frequency]
    assert [p.status for p in fresh.periods] == expected


def test_no_schedule_is_never_late() -> None:
    fresh = assess("irregular", [], now=at(2026, 5, 1))
    assert not fresh.scheduled and not fresh.late and not fresh.on_schedule and fresh.periods == []
    assert assess("on input change", [(1, at(2026, 1, 1))], now=at(2026, 5, 1)).on_schedule


def test_a_scheduled_dataset_never_published_is_late_after_its_first_due_day() -> None:
    assert not assess("monthly", [], now=at(2026, 5, 5), since=at(2026, 5, 1)).late
    assert assess("monthly", [], now=at(2026, 5, 12), since=at(2026, 5, 1)).late


def test_the_score_formula() -> None:
    perfect = history.score(1.0, 1.0, 1.0)
    assert perfect.value == 100.0
    # 40 × 0.9 + 30 × 0.8 + 30 × 0.5 = 36 + 24 + 15 = 75; disputes: 2 × 3 + 5 × 1 = 11
    assert history.score(0.9, 0.8, 0.5).value == 75.0
    assert history.score(0.9, 0.8, 0.5, open_disputes=3, overdue_disputes=1).value == 64.0
    # the dispute term is capped at 30 points, and the score never goes below 0
    assert history.score(0.9, 0.8, 0.5, open_disputes=100).value == 45.0
    assert history.score(0.0, 0.0, 0.0, open_disputes=5).value == 0.0


# --- the real pipeline, the API and the command line ---------------------------------------

ROWS = 60
BAD_STREET = 4
NO_PHONE = 9


def _months_back(now: dt.datetime, months: int, day: int) -> dt.datetime:
    local = now.astimezone(LOCAL)
    total = local.year * 12 + local.month - 1 - months
    return dt.datetime(total // 12, total % 12 + 1, day, 9, tzinfo=LOCAL)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str], Settings, dict]]:
    """Residents published three times: two months ago on the 2nd (on time), last month on the
    20th (late), with faults in version 3; nothing this month."""
    root = Path(tmp_path_factory.mktemp("quality-history"))
    settings = Settings(home=root / "hub")
    settings.ensure_dirs()
    people = residents.records(population.make(ROWS, random.Random(11)))
    publish_records(settings, "v1.csv", people)
    publish_records(settings, "v2.csv", people[:-1])
    changed = [dict(r) for r in people]
    for r in changed[:BAD_STREET]:
        r["street_code"] = "110101999"
    for r in changed[BAD_STREET : BAD_STREET + NO_PHONE]:
        r["phone"] = ""
    publish_records(settings, "v3.csv", changed)
    now = dt.datetime.now(dt.UTC)
    times = {1: _months_back(now, 2, 2), 2: _months_back(now, 1, 20), 3: _months_back(now, 1, 25)}
    with db.session(settings.db_url) as s:
        ds = service.dataset(s, DATASET)
        for v in s.scalars(select(Version).where(Version.dataset_id == ds.id)):
            v.published_at = times[v.number]
    phones = sum(1 for r in changed[BAD_STREET:] if r["phone"])
    truth = {"times": times, "phone": phones / (ROWS - BAD_STREET), "people": people}
    keys = issue_keys(settings)
    with LiveServer(settings) as server:
        yield server.url, keys, settings, truth


def test_the_api_gives_history_freshness_and_score(hub: tuple) -> None:
    url, keys, _, truth = hub
    got = httpx.get(f"{url}/api/v1/datasets/population-residents/quality", headers={"X-API-Key": keys["consumer"]})
    assert got.status_code == 200, got.text
    body = got.json()
    assert [v["version"] for v in body["versions"]] == [3, 2, 1], "newest first"
    v3, v2, v1 = body["versions"]
    assert (v1["rows_read"], v1["rows_accepted"], v1["rows_rejected"]) == (ROWS, ROWS, 0)
    assert (v2["rows_read"], v2["rows_accepted"]) == (ROWS - 1, ROWS - 1)
    assert (v3["rows_read"], v3["rows_accepted"], v3["rows_rejected"]) == (ROWS, ROWS - BAD_STREET, BAD_STREET)
    assert v3["issues_by_column"]["street_code"] == BAD_STREET
    assert v3["issues_by_rule"]["code_table:dongcheng_streets"] == BAD_STREET
    assert v3["acceptance"] == pytest.approx((ROWS - BAD_STREET) / ROWS)
    assert v3["completeness"]["id_number"] == 1.0
    assert v3["completeness"]["phone"] == pytest.approx(truth["phone"], abs=1e-6)
    periods = {p["label"]: p["status"] for p in body["freshness"]["periods"]}
    labels = [t.strftime("%Y-%m") for t in (truth["times"][1], truth["times"][2])]
    assert [periods[label] for label in labels] == ["on_time", "late"]
    assert body["late"] is True and body["freshness"]["late"] is True
    score = body["score"]
    expected_fresh = 1.5 / len([p for p in body["freshness"]["periods"] if p["status"] != "pending"])
    assert score["freshness"] == pytest.approx(expected_fresh, abs=1e-4)
    completeness = sum(v3["completeness"].values()) / len(v3["completeness"])
    expected = 40 * (ROWS - BAD_STREET) / ROWS + 30 * completeness + 30 * expected_fresh
    assert score["value"] == pytest.approx(round(expected, 1), abs=0.06)
    assert "40 × acceptance" in score["formula"]


def test_the_route_follows_the_catalogue_visibility(hub: tuple) -> None:
    url, keys, _, _ = hub
    anonymous = httpx.get(f"{url}/api/v1/datasets/population-residents/quality")
    assert anonymous.status_code == 401, "the residents are private: metadata needs a key"
    assert (
        httpx.get(f"{url}/api/v1/datasets/no-such/quality", headers={"X-API-Key": keys["consumer"]}).status_code == 404
    )


def test_the_dataset_list_flags_late_datasets(hub: tuple) -> None:
    url, keys, _, _ = hub
    listed = httpx.get(f"{url}/api/v1/datasets", headers={"X-API-Key": keys["analyst"]}).json()["datasets"]
    assert {d["contract_id"]: d["late"] for d in listed} == {DATASET: True}


def test_hub_quality_dataset_prints_the_same(hub: tuple) -> None:
    _, _, settings, _ = hub
    runner = CliRunner()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HUB_HOME", str(settings.resolved_home))
        mp.delenv("HUB_DATABASE_URL", raising=False)
        get_settings.cache_clear()
        try:
            shown = runner.invoke(app, ["quality", DATASET])
            as_json = runner.invoke(app, ["quality", DATASET, "--json"])
            late = runner.invoke(app, ["quality", "--late"])
            unknown = runner.invoke(app, ["quality", "no.such_dataset"])
        finally:
            get_settings.cache_clear()
    assert shown.exit_code == 0, shown.output
    assert "LATE" in shown.output and "street_code 4" in shown.output
    body = orjson.loads(as_json.output)
    assert body["late"] is True and [v["version"] for v in body["versions"]] == [3, 2, 1]
    assert late.exit_code == 0 and DATASET in late.output and "LATE" in late.output
    assert unknown.exit_code == 1 and unknown.output.startswith("error: dataset 'no.such_dataset' not found")


def test_metrics_carry_the_late_flag(hub: tuple) -> None:
    url, keys, _, _ = hub
    text = httpx.get(f"{url}/metrics", headers={"X-API-Key": keys["steward"]}).text
    assert f'hub_dataset_late{{dataset="{DATASET}"}} 1.0' in text


def test_the_documented_rules_are_the_code() -> None:
    text = (Path(__file__).parents[2] / "docs" / "stewardship.md").read_text(encoding="utf-8")
    for frequency, due in history.DUE.items():
        assert f"| {frequency} | {due.days} day" in text, frequency
    weights = history.WEIGHTS
    assert f"{weights['acceptance']:.0f} × acceptance + {weights['completeness']:.0f} × completeness" in text
    assert f"+ {weights['freshness']:.0f} × freshness" in text
    assert f"min({history.MAX_DISPUTE_POINTS:.0f}, {history.OPEN_DISPUTE_POINTS:.0f} × open disputes" in text
    assert f"newest {history.SCORE_PERIODS} settled periods" in text and f"newest {history.MAX_PERIODS} are" in text


def test_a_version_registered_without_completeness_is_measured_once_on_demand(hub: tuple) -> None:
    url, keys, settings, truth = hub
    with db.session(settings.db_url) as s:
        ds = service.dataset(s, DATASET)
        first = next(v for v in ds.versions if v.number == 1)
        first.quality = {k: v for k, v in first.quality.items() if k != "completeness"}
    got = httpx.get(f"{url}/api/v1/datasets/population-residents/quality", headers={"X-API-Key": keys["steward"]})
    v1 = next(v for v in got.json()["versions"] if v["version"] == 1)
    people = truth["people"]
    assert v1["completeness"]["phone"] == pytest.approx(sum(1 for r in people if r["phone"]) / len(people), abs=1e-6)
    with db.session(settings.db_url) as s:
        kept = next(v for v in service.dataset(s, DATASET).versions if v.number == 1)
        assert kept.quality["completeness"] == v1["completeness"], "kept for the next reader"
