"""Every connection custody serves sends its segments without waiting (TCP_NODELAY), including on
the socket uvicorn binds for several server processes, which asyncio leaves alone because its
protocol number is 0: there, each answer's body waited 40 ms for the client's delayed ACK."""

from __future__ import annotations

import asyncio
import importlib
import os
import socket
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner
from uvicorn.config import Config

from custody import observability
from custody.api.app import DEMO_SIGNIN_ENV, EXCHANGE_ENV, from_environment
from custody.api.serving import PROTOCOL, NoDelayH11Protocol, no_delay
from custody.cli.main import app


def _accepted_with(set_no_delay: bool) -> int:
    """TCP_NODELAY of a connection accepted by asyncio on a socket bound as uvicorn binds it."""
    listening = socket.socket(family=socket.AF_INET)  # uvicorn's Config.bind_socket: protocol number 0
    listening.bind(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    seen: list[int] = []

    class Recorder(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            if set_no_delay:
                no_delay(transport)
            sock = transport.get_extra_info("socket")
            seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    async def connect_once() -> None:
        server = await asyncio.get_running_loop().create_server(Recorder, sock=listening)
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        while not seen:
            await asyncio.sleep(0.01)
        writer.close()
        server.close()
        await server.wait_closed()

    asyncio.run(connect_once())
    return seen[0]


def test_asyncio_leaves_nagle_on_for_the_socket_uvicorn_binds_and_no_delay_turns_it_off() -> None:
    assert _accepted_with(set_no_delay=False) == 0  # the fault this module exists for
    assert _accepted_with(set_no_delay=True) != 0


def test_the_protocol_uvicorn_loads_is_ours() -> None:
    config = Config(app=lambda scope, receive, send: None, http=PROTOCOL)
    config.load()
    assert config.http_protocol_class is NoDelayH11Protocol


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_runs_uvicorn_with_the_protocol(workers: str, tmp_path: Path, monkeypatch: Any) -> None:
    import uvicorn

    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append((args, kwargs)))
    monkeypatch.setenv("CUSTODY_DATABASE_URL", f"sqlite:///{tmp_path / 'custody.db'}")
    monkeypatch.setenv(EXCHANGE_ENV, "inline")  # serve sets it for its processes; restored afterwards
    result = CliRunner().invoke(app, ["serve", "--port", "8799", "--workers", workers])
    assert result.exit_code == 0, result.output
    [(args, kwargs)] = calls
    assert kwargs["http"] == PROTOCOL and kwargs["port"] == 8799
    if workers == "1":
        assert isinstance(args[0], FastAPI)  # the application itself, served in this process
    else:
        # each worker process builds the application from the environment, by the factory uvicorn imports
        assert args[0] == "custody.api.app:from_environment" and kwargs["factory"] is True and kwargs["workers"] == 2
        module, _, name = args[0].partition(":")
        assert callable(getattr(importlib.import_module(module), name))


@pytest.mark.parametrize(
    ("options", "signin"),
    [
        ([], True),  # this machine only: the demo users are a local browser's
        (["--host", "0.0.0.0"], False),  # reachable by others: no password-less administrator
        (["--host", "0.0.0.0", "--demo-signin"], True),
        (["--no-demo-signin"], False),
    ],
)
def test_demo_sign_in_is_on_only_for_a_server_no_one_else_can_reach(
    options: list[str], signin: bool, tmp_path: Path, monkeypatch: Any
) -> None:
    """Found by a review: every served instance, whatever its address, let anyone sign in as an
    administrator at /signin."""
    import uvicorn

    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append((args, kwargs)))
    monkeypatch.setenv("CUSTODY_DATABASE_URL", f"sqlite:///{tmp_path / 'custody.db'}")
    monkeypatch.setenv(EXCHANGE_ENV, "inline")
    monkeypatch.setenv(DEMO_SIGNIN_ENV, "unset")  # serve sets it for its processes; restored afterwards
    result = CliRunner().invoke(app, ["serve", "--port", "8799", *options])
    assert result.exit_code == 0, result.output
    [(args, kwargs)] = calls
    assert args[0].state.demo_signin is signin and os.environ[DEMO_SIGNIN_ENV] == ("on" if signin else "off")
    assert kwargs["proxy_headers"] is False  # X-Forwarded-For is not believed unless a proxy is named
    monkeypatch.setattr(observability, "configure_logging", lambda: None)  # the test's own logging stays
    with TestClient(from_environment()) as client:
        answer = client.post("/signin", data={"user": "demo-administrator"}, follow_redirects=False)
    assert (answer.status_code == 303) is signin
    if not signin:
        assert answer.status_code == 404 and "demo sign-in is off" in answer.json()["detail"]


def test_a_named_proxy_s_forwarded_address_is_believed(tmp_path: Path, monkeypatch: Any) -> None:
    import uvicorn

    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append((args, kwargs)))
    monkeypatch.setenv("CUSTODY_DATABASE_URL", f"sqlite:///{tmp_path / 'custody.db'}")
    monkeypatch.setenv(EXCHANGE_ENV, "inline")
    monkeypatch.setenv(DEMO_SIGNIN_ENV, "unset")
    result = CliRunner().invoke(app, ["serve", "--port", "8799", "--trust-proxy", "10.0.0.5"])
    assert result.exit_code == 0, result.output
    [(_, kwargs)] = calls
    assert kwargs["proxy_headers"] is True and kwargs["forwarded_allow_ips"] == "10.0.0.5"
