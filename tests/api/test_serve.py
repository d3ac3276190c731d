"""`custody serve --host H --port P --demo` really serves: the landing page with the demo sign-in, a
401 with ``WWW-Authenticate`` for protected data without credentials, and the data with a token
minted by `custody token` against the same issuer key."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

COOK = "ocd-division/country:us/state:il/county:cook"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_with_the_demo_answers_on_the_given_port(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "CUSTODY_VAR": str(tmp_path / "var")}
    env.pop("CUSTODY_DATABASE_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "custody", "serve", "--host", "127.0.0.1", "--port", str(port), "--demo"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/", timeout=2) as response:
                    page = response.read().decode()
                    assert response.status == 200
                    break
            except OSError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "server did not answer within 60 s"
                time.sleep(0.3)
        assert "<h1>custody</h1>" in page and "Sign in to the demo" in page
        try:
            urllib.request.urlopen(f"{base}/federal/requests", timeout=5)
            raise AssertionError("protected data answered without credentials")
        except urllib.error.HTTPError as refused:
            assert refused.code == 401 and refused.headers["WWW-Authenticate"].startswith("Bearer")
            assert refused.headers["Content-Type"] == "application/problem+json"

        def token(*args: str) -> str:
            return subprocess.run(
                [sys.executable, "-m", "custody", "token", *args], env=env, check=True, capture_output=True, text=True
            ).stdout.strip()

        def listing(bearer: str) -> dict[str, object]:
            ask = urllib.request.Request(f"{base}/federal/requests", headers={"Authorization": f"Bearer {bearer}"})
            with urllib.request.urlopen(ask, timeout=5) as response:
                answer: dict[str, object] = json.loads(response.read())
                return answer

        assert listing(token("--role", "administrator"))["total"] == 3
        florida = listing(token("--role", "federal_officer", "--area", "ocd-division/country:us/state:fl"))
        assert florida["total"] == 2
        assert (tmp_path / "var" / "custody.db").exists()
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_serve_with_several_processes_leaves_the_exchange_to_workers(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "CUSTODY_VAR": str(tmp_path / "var")}
    env.pop("CUSTODY_DATABASE_URL", None)
    command = [sys.executable, "-m", "custody", "serve", "--port", str(port), "--workers", "2", "--exchange", "workers"]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=2) as response:
                    assert json.loads(response.read())["status"] == "ok"
                    break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "server did not answer within 60 s"
                time.sleep(0.3)
        token = subprocess.run(
            [sys.executable, "-m", "custody", "token", "--role", "jail_officer", "--agency", COOK],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        booking = {
            "agency": COOK,
            "booking_number": "W-1",
            "booked_at": "2017-08-16T01:00:00-05:00",
            "person": {"last_name": "Doe", "first_name": "Jan", "date_of_birth": "1990-01-01"},
            "charges": [{"offense": "theft", "level": "misdemeanor"}],
        }
        ask = urllib.request.Request(
            f"{base}/bookings",
            data=json.dumps(booking).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(ask, timeout=10) as response:
            made = json.loads(response.read())
        # Accepted and stored; with no worker running, the federal side has not answered yet.
        assert response.status == 201 and made["booking_number"] == "W-1"
        assert not any(e["type"] == "IdentificationReceived" for e in made["timeline"])
    finally:
        server.terminate()
        server.wait(timeout=20)
