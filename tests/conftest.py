"""Test set-up: a temporary HUB_HOME, Airflow pointed at it before anything imports airflow."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

SESSION_HOME = Path(tempfile.mkdtemp(prefix="hub-test-"))
os.environ["HUB_HOME"] = str(SESSION_HOME)
os.environ["HUB_AIRFLOW_HOME"] = str(SESSION_HOME / "airflow")
os.environ["GX_ANALYTICS_ENABLED"] = "False"
os.environ["HUB_RATE_ANONYMOUS_REQUESTS_PER_MINUTE"] = "1000000"  # every test calls from 127.0.0.1; one test lowers it
os.environ.pop("HUB_DATABASE_URL", None)
# in-process servers would freeze the test process's garbage for good; one test turns it on
os.environ["HUB_API_FREEZE_HEAP"] = "false"

from hub import airflow_env  # noqa: E402
from hub.settings import Settings, get_settings  # noqa: E402

get_settings.cache_clear()
airflow_env.configure(get_settings())

POSTGRES_ADMIN_URL = os.environ.get("HUB_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(SESSION_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def session_settings() -> Settings:
    """The settings Airflow and the DAGs see (one HUB_HOME for the whole run)."""
    return get_settings()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A fresh, empty HUB_HOME for one test."""
    s = Settings(home=tmp_path / "hub")
    s.ensure_dirs()
    return s


def _postgres_url() -> str | None:
    from sqlalchemy import create_engine, text

    try:
        eng = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        name = f"hub_test_{os.getpid()}_{int(time.time() * 1000) % 10**8}"
        with eng.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        eng.dispose()
    except Exception:  # noqa: BLE001 - no server: the caller skips
        return None
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The metadata database on both engines the hub supports."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'catalog.db'}"
        return
    url = _postgres_url()
    if url is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not reachable at 127.0.0.1:5432 (CI must test both engines)")
        pytest.skip("PostgreSQL is not reachable at 127.0.0.1:5432")
    yield url
    from catalog.db import engine

    engine(url).dispose()
    from sqlalchemy import create_engine, text

    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """The real app under uvicorn in a background thread, reachable over HTTP."""

    def __init__(self, settings: Settings):
        import uvicorn

        from exchange_api.app import create_app

        self.port = free_port()
        self.settings = settings.model_copy(update={"api_port": self.port})
        config = uvicorn.Config(create_app(self.settings), host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
