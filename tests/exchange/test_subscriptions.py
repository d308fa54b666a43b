"""Webhook subscriptions: registered through the API under the reader's policy, one signed notice
per new version delivered by the outbox, retried with backoff, never delaying a publish; URLs that
reach the hub's own network are refused (a table of hostile URLs)."""

from __future__ import annotations

import datetime as dt
import http.server
import ipaddress
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from access import grants
from catalog import clients, db, service
from catalog.models import utcnow
from exchange import subscriptions
from exchange.subscriptions import Delivery, DeliveryStatus
from generator import faults, population, residents
from hub.errors import BadParameter
from hub.settings import Settings
from tests.access.test_cli import _hub
from tests.conftest import LiveServer
from tests.exchange.versions import Edits, publish_two_versions
from tests.published import grant, new_key, publish_records

LOOPBACK = [ipaddress.ip_network("127.0.0.0/8")]
DOC = Path(__file__).parents[2] / "docs" / "subscriptions.md"


def documented_verify() -> Callable[[str, str, bytes], bool]:
    """The receiver's check from docs/subscriptions.md, as written there."""
    text = DOC.read_text(encoding="utf-8")
    code = re.search(r"<!-- receiver-example -->\n```python\n(.*?)```", text, re.S).group(1)  # type: ignore[union-attr]
    scope: dict[str, Any] = {}
    exec(compile(code, str(DOC), "exec"), scope)  # noqa: S102 - the documented example itself
    return scope["verify"]  # type: ignore[no-any-return]


# --- the URL rules ------------------------------------------------------------------------------

HOSTILE = [
    ("file:///etc/passwd", "only http and https"),
    ("gopher://example.org/", "only http and https"),
    ("ftp://192.0.2.10/x", "only http and https"),
    ("javascript:alert(1)", "only http and https"),
    ("//93.184.216.34/x", "only http and https"),
    ("http://127.0.0.1/hook", "loopback"),
    ("http://127.255.255.254:8080/", "loopback"),
    ("http://localhost:9000/hook", "loopback"),
    ("http://LOCALHOST./hook", "loopback"),
    ("http://[::1]/hook", "loopback"),
    ("http://[::ffff:127.0.0.1]/hook", "loopback"),
    ("http://[::ffff:169.254.169.254]/latest/meta-data", "link-local"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://[fe80::1]/", "link-local"),
    ("http://[fe80::1%25eth0]/", "zone identifiers"),
    ("http://0.0.0.0:8000/", "unspecified"),
    ("http://0.1.2.3/", "'this network'"),
    ("http://[::]/", "unspecified"),
    ("http://224.0.0.1/", "multicast"),
    ("http://240.0.0.1/", "reserved"),
    ("http://2130706433/", "dotted-quad"),
    ("http://0x7f000001/", "dotted-quad"),
    ("http://0177.0.0.1/", "dotted-quad"),
    ("http://127.1/", "dotted-quad"),
    ("http://user:secret@93.184.216.34/", "user names and passwords"),
    ("http://93.184.216.34@127.0.0.1/", "user names and passwords"),
    ("http:///only-a-path", "no host"),
    ("http://exa mple.org/", "printable ASCII"),
    ("http://例子.测试/", "printable ASCII"),
    ("http://93.184.216.34/\r\nX-Injected: 1", "printable ASCII"),
    ("http://93.184.216.34:99999/", "not a valid URL"),
    ("http://93.184.216.34/" + "a" * 2000, "longer than"),
    ("http://no-such-host.invalid/", "cannot be resolved"),
]


@pytest.mark.parametrize(("url", "why"), HOSTILE)
def test_hostile_webhook_urls_are_refused_with_the_reason(url: str, why: str) -> None:
    with pytest.raises(BadParameter) as refused:
        subscriptions.check_url(url)
    assert why in str(refused.value), str(refused.value)
    assert refused.value.rule == "webhook_url"


@pytest.mark.parametrize(
    "url", ["http://93.184.216.34/hooks/hub", "https://93.184.216.34:8443/h?x=1", "HTTPS://[2606:4700::1111]/"]
)
def test_public_addresses_are_accepted_and_pinned(url: str) -> None:
    target = subscriptions.check_url(url)
    assert target.addresses and all(subscriptions.address_refusal(a) is None for a in target.addresses)


def test_an_allow_list_replaces_the_default_rules() -> None:
    assert subscriptions.check_url("http://127.0.0.1:8080/h", LOOPBACK).port == 8080
    for url in ("http://93.184.216.34/", "http://10.0.0.1/", "http://[::1]/"):
        with pytest.raises(BadParameter, match="outside HUB_WEBHOOK_ALLOWED_NETWORKS"):
            subscriptions.check_url(url, LOOPBACK)


def test_the_allow_list_setting_reads_comma_separated_networks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_WEBHOOK_ALLOWED_NETWORKS", "10.20.0.0/16, 127.0.0.1/32")
    assert Settings().webhook_allowed_networks == [
        ipaddress.ip_network("10.20.0.0/16"),
        ipaddress.ip_network("127.0.0.1/32"),
    ]


def test_signatures_verify_only_the_exact_body_at_a_recent_time() -> None:
    body, now = b'{"dataset":"population.residents","version":2}', int(time.time())
    header = subscriptions.sign("whsec_k", body, now)
    assert subscriptions.verify_signature("whsec_k", header, body)
    assert not subscriptions.verify_signature("whsec_k", header, body + b" ")
    assert not subscriptions.verify_signature("whsec_other", header, body)
    assert not subscriptions.verify_signature("whsec_k", header, body, now=now + 301)
    assert not subscriptions.verify_signature("whsec_k", "t=abc,v1=00", body)
    assert not subscriptions.verify_signature("whsec_k", "", body)


# --- a receiver on 127.0.0.1 --------------------------------------------------------------------


@dataclass
class Receiver:
    """An HTTP server that records every request and answers with the queued status codes (then 204)."""

    answers: list[int] = field(default_factory=list)
    received: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                outer.received.append((self.path, dict(self.headers.items()), body))
                self.send_response(outer.answers.pop(0) if outer.answers else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def bodies(self, path: str = "/hook") -> list[dict[str, object]]:
        return [orjson.loads(body) for p, _, body in self.received if p == path]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers (a hung receiver)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield int(listener.getsockname()[1])


def _settings(tmp: Path, **update: object) -> Settings:
    settings = Settings(home=tmp / "hub", webhook_allowed_networks=LOOPBACK, webhook_poll_seconds=0, **update)  # type: ignore[arg-type]
    settings.ensure_dirs()
    return settings


@dataclass
class Hub:
    settings: Settings
    url: str
    keys: dict[str, str]
    edits: Edits
    receiver: Receiver
    subscription: dict[str, object]


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """Version 1, a subscription made through the API, then version 2 (its delivery queued, not sent)."""
    settings = _settings(Path(tmp_path_factory.mktemp("subscriptions")))
    receiver = Receiver(answers=[500])
    made: dict[str, object] = {}
    with LiveServer(settings) as server:
        keys: dict[str, str] = {}

        def subscribe() -> None:
            keys["app"] = new_key(settings, "grid-app")
            keys["other"] = new_key(settings, "other-app")
            keys["ungranted"] = new_key(settings, "ungranted-app", granted=None)
            answer = httpx.post(
                f"{server.url}/api/v1/subscriptions",
                headers={"X-API-Key": keys["app"]},
                json={"dataset": "population.residents", "url": receiver.url(), "description": "grid sync"},
            )
            assert answer.status_code == 201, answer.text
            made.update(answer.json())

        edits = publish_two_versions(settings, rows=200, between=subscribe)
        yield Hub(settings, server.url, keys, edits, receiver, made)


def _deliveries(settings: Settings, subscription_id: str) -> list[Delivery]:
    with db.session(settings.db_url) as s:
        rows = subscriptions.deliveries(s, subscriptions.subscription(s, subscription_id))
        s.expunge_all()
        return rows


def test_a_notice_is_delivered_once_signed_and_retried_after_a_receiver_error(hub: Hub) -> None:
    sub_id = str(hub.subscription["id"])
    secret = str(hub.subscription["secret"])
    assert secret.startswith("whsec_") and hub.subscription["active"] is True
    [queued] = _deliveries(hub.settings, sub_id)
    assert (queued.version, queued.status, queued.attempts) == (2, "pending", 0), "publishing only queues"
    assert hub.receiver.received == []

    first = subscriptions.deliver_due(hub.settings)
    assert [(a.status, a.status_code, a.attempts) for a in first] == [(DeliveryStatus.pending, 500, 1)]
    assert subscriptions.deliver_due(hub.settings) == [], "not again before its backoff"
    later = utcnow() + dt.timedelta(seconds=31)
    second = subscriptions.deliver_due(hub.settings, now=later)
    assert [(a.status, a.status_code, a.attempts) for a in second] == [(DeliveryStatus.delivered, 204, 2)]
    assert subscriptions.deliver_due(hub.settings, now=later + dt.timedelta(days=1)) == [], "delivered once"

    assert len(hub.receiver.received) == 2
    (_, h1, b1), (path, headers, body) = hub.receiver.received
    assert path == "/hook" and b1 == body, "a retry sends the same bytes"
    assert headers["X-Hub-Event"] == "dataset.version" and headers["X-Hub-Delivery"] == queued.id
    assert subscriptions.verify_signature(secret, headers["X-Hub-Signature"], body)
    verify = documented_verify()
    assert verify(secret, headers["X-Hub-Signature"], body), "the receiver in docs/subscriptions.md accepts it"
    assert not verify(secret, headers["X-Hub-Signature"], body + b" ") and not verify(
        "whsec_x", headers["X-Hub-Signature"], body
    )
    assert not subscriptions.verify_signature(secret, headers["X-Hub-Signature"], body.replace(b"2", b"3"))
    assert not subscriptions.verify_signature(
        subscriptions.secret(hub.settings, "another-id"), headers["X-Hub-Signature"], body
    )

    notice = orjson.loads(body)
    edits = hub.edits
    assert notice["dataset"] == "population.residents" and notice["version"] == 2
    assert notice["row_count"] == len(edits.v2)
    assert notice["changes"] == {
        "added": len(edits.added),
        "changed": len(edits.changed),
        "removed": len(edits.removed),
    }
    assert "records" not in notice and not any(r["id_number"] in body.decode() for r in edits.v2), "counts only"
    # the links in a notice work as they stand, for the subscriber
    with httpx.Client(base_url=hub.url, headers={"X-API-Key": hub.keys["app"]}) as http:
        changes = http.get(notice["links"]["changes"])
        assert changes.status_code == 200, changes.text
        assert changes.json()["counts"] == notice["changes"]
        records = http.get(notice["links"]["records"])
        assert records.status_code == 200 and records.json()["version"]["version"] == 2, records.text

    [done] = _deliveries(hub.settings, sub_id)
    assert (done.status, done.attempts, done.last_status_code, done.last_error) == ("delivered", 2, 204, None)
    with db.session(hub.settings.db_url) as s:
        assert subscriptions.enqueue(s, "population.residents", 2, done.snapshot_id) == 0, "a rerun queues nothing"


def test_the_api_lists_and_hides_subscriptions_by_owner(hub: Hub) -> None:
    sub_id = hub.subscription["id"]
    with httpx.Client(base_url=hub.url) as http:
        mine = http.get("/api/v1/subscriptions", headers={"X-API-Key": hub.keys["app"]}).json()
        assert [s["id"] for s in mine["subscriptions"]] == [sub_id] and "secret" not in mine["subscriptions"][0]
        theirs = http.get("/api/v1/subscriptions", headers={"X-API-Key": hub.keys["other"]}).json()
        assert theirs["count"] == 0
        for method in ("GET", "DELETE"):
            path = f"/api/v1/subscriptions/{sub_id}" + ("/deliveries" if method == "GET" else "")
            hidden = http.request(method, path, headers={"X-API-Key": hub.keys["other"]})
            assert hidden.status_code == 404, "another client's subscription does not exist for you"
        own = http.get(f"/api/v1/subscriptions/{sub_id}/deliveries", headers={"X-API-Key": hub.keys["app"]})
        assert own.status_code == 200 and own.json()["deliveries"][0]["version"] == 2
        assert http.get("/api/v1/subscriptions").status_code == 401


@pytest.mark.parametrize(
    ("key", "body", "status", "words"),
    [
        ("ungranted", {"url": "/hook"}, 403, "population.residents"),
        ("app", {"url": "http://10.0.0.1/hook"}, 400, "outside HUB_WEBHOOK_ALLOWED_NETWORKS"),
        ("app", {"url": "file:///etc/passwd"}, 400, "only http and https"),
        ("app", {"url": "/hook", "dataset": "population.nobody"}, 404, "population.nobody"),
        ("app", {"url": "/hook", "secret": "mine"}, 400, "body.secret: Extra inputs"),
        ("app", {"url": "/hook"}, 409, "already have subscription"),
    ],
)
def test_subscribing_is_refused_with_a_clear_error(
    hub: Hub, key: str, body: dict[str, str], status: int, words: str
) -> None:
    if body["url"].startswith("/"):
        body = {**body, "url": hub.receiver.url(body["url"])}
    body = {"dataset": "population.residents", **body}
    answer = httpx.post(f"{hub.url}/api/v1/subscriptions", headers={"X-API-Key": hub.keys[key]}, json=body)
    assert answer.status_code == status, answer.text
    assert words in answer.text


def test_a_dead_receiver_never_delays_publishing_and_is_failed_after_the_last_attempt(
    tmp_path: Path, silent_port: int
) -> None:
    settings = _settings(tmp_path, webhook_max_attempts=2)
    v1 = residents.records(population.make(60, faults.stream(3, "population")))
    publish_records(settings, "v1.csv", v1)
    key = new_key(settings, "slow-app")
    with LiveServer(settings) as server:
        answer = httpx.post(
            f"{server.url}/api/v1/subscriptions",
            headers={"X-API-Key": key},
            json={"dataset": "population.residents", "url": f"http://127.0.0.1:{silent_port}/hook"},
        )
    assert answer.status_code == 201, answer.text
    started = time.monotonic()
    publish_records(settings, "v2.csv", v1[10:])
    publish_seconds = time.monotonic() - started
    [queued] = _deliveries(settings, answer.json()["id"])
    assert queued.attempts == 0 and queued.status == "pending", "the publish sent nothing"

    [first] = subscriptions.deliver_due(settings, timeout=0.3)
    assert first.status == DeliveryStatus.pending and first.error and "timed out" in first.error
    [last] = subscriptions.deliver_due(settings, now=utcnow() + dt.timedelta(minutes=1), timeout=0.3)
    assert (last.status, last.attempts) == (DeliveryStatus.failed, 2)
    assert subscriptions.deliver_due(settings, now=utcnow() + dt.timedelta(days=2)) == []
    assert publish_seconds < 60  # a sanity bound; the publish made no connection at all (attempts == 0 above)


def test_two_dispatchers_send_each_notice_once(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    publish_records(settings, "v1.csv", residents.records(population.make(40, faults.stream(5, "population"))))
    receiver = Receiver()
    new_key(settings, "many-app")
    with db.session(settings.db_url) as s:
        caller = clients.client(s, "many-app")
        key = caller.keys[0]
        ds = service.dataset(s, "population.residents")
        for n in range(8):
            subscriptions.subscribe(s, settings, caller, key, ds, url=receiver.url(f"/h{n}"))
        snapshot = ds.versions[-1].snapshot_id
        assert subscriptions.enqueue(s, "population.residents", 1, snapshot) == 8
    results: list[list[subscriptions.Attempt]] = []
    workers = [threading.Thread(target=lambda: results.append(subscriptions.deliver_due(settings))) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    sent = sorted(a.delivery_id for r in results for a in r)
    assert len(sent) == 8 == len(set(sent)) and len(receiver.received) == 8
    assert sorted(p for p, _, _ in receiver.received) == [f"/h{n}" for n in range(8)]


def test_revoked_access_and_cancelled_subscriptions_are_skipped(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    publish_records(settings, "v1.csv", residents.records(population.make(40, faults.stream(6, "population"))))
    receiver = Receiver()
    new_key(settings, "gone-app", granted=None)
    grant_id = grant(settings, "gone-app")
    new_key(settings, "quit-app")
    with db.session(settings.db_url) as s:
        ds = service.dataset(s, "population.residents")
        gone, quit_ = clients.client(s, "gone-app"), clients.client(s, "quit-app")
        a, _ = subscriptions.subscribe(s, settings, gone, gone.keys[0], ds, url=receiver.url("/gone"))
        b, _ = subscriptions.subscribe(s, settings, quit_, quit_.keys[0], ds, url=receiver.url("/quit"))
        subscriptions.enqueue(s, "population.residents", 1, ds.versions[-1].snapshot_id)
        grants.revoke(s, grants.grant(s, grant_id))
        subscriptions.cancel(s, s.get(subscriptions.Subscription, b.id), by="quit-app")
    done = {a.url.rsplit("/", 1)[1]: a for a in subscriptions.deliver_due(settings)}
    assert receiver.received == []
    assert done["gone"].status == DeliveryStatus.skipped and "may no longer read" in (done["gone"].error or "")
    [cancelled] = _deliveries(settings, b.id)
    assert cancelled.status == "skipped" and cancelled.last_error == "subscription cancelled"


def test_the_api_process_delivers_on_its_own(hub: Hub) -> None:
    settings = hub.settings.model_copy(update={"webhook_poll_seconds": 0.2})
    with LiveServer(settings):
        publish_records(settings, "v3.csv", hub.edits.v2[3:])
        deadline = time.monotonic() + 20
        while not any(b["version"] == 3 for b in hub.receiver.bodies()) and time.monotonic() < deadline:
            time.sleep(0.1)
    assert [b["version"] for b in hub.receiver.bodies()][-1] == 3, "the dispatcher thread sent version 3"
    assert hub.receiver.bodies()[-1]["changes"] == {"added": 0, "changed": 0, "removed": 3}


def test_operators_list_deliver_and_read_deliveries_from_the_cli(hub: Hub) -> None:
    home = hub.settings.resolved_home
    listed = _hub(home, "subscriptions", "list")
    assert listed.returncode == 0, listed.stderr
    assert str(hub.subscription["id"]) in listed.stdout and "grid-app" in listed.stdout
    shown = _hub(home, "subscriptions", "deliveries", str(hub.subscription["id"]))
    assert shown.returncode == 0 and "v2" in shown.stdout and "delivered" in shown.stdout, shown.stdout
    passed = _hub(home, "subscriptions", "deliver")
    assert passed.returncode == 0 and passed.stdout.strip() == "nothing to deliver", passed.stdout
    missing = _hub(home, "subscriptions", "deliveries", "no-such-id")
    assert missing.returncode != 0 and "subscription no-such-id not found" in missing.stderr
    assert "Traceback" not in missing.stderr
