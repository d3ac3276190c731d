"""A live server and one headless Chromium for the whole browser session.

The browser is Debian's (/usr/bin/chromium), never a downloaded build; axe-core comes from npm
(`npm ci` in tests/web). Without them the browser tests skip with the reason, and under CI=true
they fail instead."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from custody.access.tokens import Issuer
from custody.api.app import create_app
from custody.domain.clock import ManualClock
from custody.service import Custody
from custody.store import db
from tests.access.support import client, issuer
from tests.conftest import skip_or_fail

__all__ = ["client", "issuer"]

CHROMIUM = Path(os.environ.get("CUSTODY_CHROMIUM", "/usr/bin/chromium"))
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(os.environ.get("CUSTODY_SCREENSHOTS", Path(__file__).resolve().parents[2] / "var" / "screenshots"))
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@dataclass
class Live:
    base: str
    service: Custody
    issuer: Issuer
    clock: ManualClock


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    import uvicorn

    folder = Path(tmp_path_factory.mktemp("live"))
    engine = db.make_engine(f"sqlite:///{folder / 'custody.db'}")
    db.upgrade(engine)
    clock = ManualClock(datetime.fromisoformat("2017-08-16T08:00:00-05:00"))
    service = Custody(engine, clock, actor="test")
    token_issuer = Issuer.local(folder)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(service, tick_seconds=None, issuer=token_issuer),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the live server did not start within 30 s"
        time.sleep(0.05)
    yield Live(f"http://127.0.0.1:{port}", service, token_issuer, clock)
    server.should_exit = True
    thread.join(timeout=10)
    engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} is absent: install Debian's chromium (apt-get install -y chromium)")
    if not AXE.exists():
        skip_or_fail(f"{AXE} is absent: run `npm ci` in tests/web to install axe-core")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("the playwright package is not installed (pip install playwright)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield chromium
        chromium.close()
