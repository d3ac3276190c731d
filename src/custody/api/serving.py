"""The HTTP protocol custody serves with: uvicorn's own (h11), with Nagle's algorithm turned off on
every connection.

With ``custody serve --workers N`` uvicorn binds the listening socket itself as
``socket.socket(family)``, whose protocol number is 0, and asyncio turns TCP_NODELAY on only for
sockets whose protocol number says TCP. Each answer is written as two segments (head, then body), so
on those connections the body waited for the client's delayed acknowledgement: 40 ms added to every
request (bench/load_api.py: GET /health p50 42.9 ms with two server processes, 3.4 ms with one;
issue 9). One process was not affected: its socket comes from getaddrinfo, protocol TCP.
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol

PROTOCOL = "custody.api.serving:NoDelayH11Protocol"  # as uvicorn.run(http=...) takes it


def no_delay(transport: asyncio.BaseTransport) -> None:
    """Send each segment as soon as it is written, on a TCP connection (not on a Unix socket)."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoDelayH11Protocol(H11Protocol):
    def connection_made(  # type: ignore[override]
        self, transport: asyncio.Transport
    ) -> None:
        no_delay(transport)
        super().connection_made(transport)
