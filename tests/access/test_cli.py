"""`hub requests`, `hub grants` and `hub audit` as a steward runs them, in their own processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
from sqlalchemy import update

from access import audit, grants
from catalog import clients, db
from contracts import model
from tests.catalog.sites import site


def _hub(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HUB_HOME": str(home)}
    exe = str(Path(sys.executable).with_name("hub"))
    return subprocess.run([exe, *args], env=env, capture_output=True, text=True, timeout=120)


def test_a_steward_runs_the_queue_and_verifies_the_log_from_the_command_line(tmp_path: Path) -> None:
    with site(tmp_path, rows=30) as hub:
        home = hub.settings.resolved_home
        with db.session(hub.settings.db_url) as s:
            app = clients.ensure_client(s, "cli-app", organization="街道服务中心")
            key = clients.issue_key(s, app)
            contract = model.find(hub.settings.contracts_dir, "population.residents")
            asked = grants.request_access(
                s, app, contract, fields=["street_code", "name"], purpose="核对", legal_basis="办法第二十条"
            ).id
            other = grants.request_access(s, app, contract, fields=["phone"], purpose="p", legal_basis="b").id
        listed = _hub(home, "requests", "list", "--status", "pending")
        assert listed.returncode == 0 and asked in listed.stdout and "10 working day(s) left" in listed.stdout
        approved = _hub(home, "requests", "approve", asked, "--fields", "street_code", "--by", "steward-wang")
        assert approved.returncode == 0 and approved.stdout.startswith("approved: grant"), approved.stderr
        again = _hub(home, "requests", "approve", asked)
        assert again.returncode == 1 and "already approved" in again.stderr and "Traceback" not in again.stderr
        denied = _hub(home, "requests", "deny", other, "--reason", "不属于最小必要范围")
        assert denied.returncode == 0
        shown = _hub(home, "requests", "show", other)
        assert "不属于最小必要范围" in shown.stdout

        page = httpx.get(hub.url + "/api/v1/datasets/population-residents/records", headers={"X-API-Key": key})
        assert page.status_code == 200 and set(page.json()["records"][0]) == {"street_code"}
        glist = _hub(home, "grants", "list", "--client", "cli-app")
        assert glist.returncode == 0 and "live" in glist.stdout and "fields=street_code" in glist.stdout
        grant_id = glist.stdout.split()[0]
        assert _hub(home, "grants", "revoke", grant_id).returncode == 0
        assert (
            httpx.get(hub.url + "/api/v1/datasets/population-residents/records", headers={"X-API-Key": key}).status_code
            == 403
        )
        made = _hub(
            home,
            "grants",
            "create",
            "--client",
            "cli-app",
            "--dataset",
            "population.residents",
            "--fields",
            "street_code,grid_code",
            "--rows",
            "street_code = '110101001'",
            "--purpose",
            "网格管理",
        )
        assert made.returncode == 0, made.stderr
        bad = _hub(
            home,
            "grants",
            "create",
            "--client",
            "cli-app",
            "--dataset",
            "population.residents",
            "--rows",
            "1=1 OR (SELECT 1)=1",
            "--purpose",
            "x",
        )
        assert bad.returncode == 1 and "row filter" in bad.stderr

        ok = _hub(home, "audit", "verify")
        assert ok.returncode == 0 and "intact" in ok.stdout
        shown = _hub(home, "audit", "show", "--client", "cli-app")
        assert shown.returncode == 0 and "records" in shown.stdout
        with db.session(hub.settings.db_url) as s:
            s.execute(update(audit.AuditRecord).where(audit.AuditRecord.seq == 1).values(rows=999))
        broken = _hub(home, "audit", "verify")
        assert broken.returncode == 1 and "broken at record 1" in broken.stderr
