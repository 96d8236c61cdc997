"""Fixtures of the web tests: an app on the shipped KB (serial trial jobs), its TestClient, and the
real components (PostgreSQL, Chromium) with the rule that under CI=true a missing one fails."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from exoresist.web import Settings, create_app

POSTGRES_ENV = "EXORESIST_TEST_POSTGRES_URL"
CHROMIUM = "/usr/bin/chromium"


def require(available: bool, what: str, install: str) -> None:
    """Skip (fail under CI=true) when a real component is missing, naming how to install it."""
    if available:
        return
    message = f"{what} not available: {install}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and {message}")
    pytest.skip(message)


def make_settings(tmp: Path, **kw: object) -> Settings:
    defaults: dict[str, object] = {"data_dir": tmp, "scheduler": "serial"}
    defaults.update(kw)
    return Settings(**defaults)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    app = create_app(make_settings(tmp_path_factory.mktemp("web")), warm_up=False)
    with TestClient(app) as c:
        yield c


def wait_for_job(c: TestClient, job_id: str, timeout_s: float = 240.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        body = c.get(f"/api/v1/trials/{job_id}").json()
        if body["state"] in ("done", "failed"):
            return dict(body)
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} did not finish in {timeout_s} s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """The app served by uvicorn on 127.0.0.1 in a thread (for the browser)."""

    def __init__(self, settings: Settings) -> None:
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def chromium_available() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return shutil.which(CHROMIUM) is not None or Path(CHROMIUM).exists()
