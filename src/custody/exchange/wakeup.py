"""A worker's wait for work: woken the moment another process commits a message, not a poll later.

On PostgreSQL every insert into the outbox notifies channel ``custody_messages`` with the store's
schema (migration 0007), and PostgreSQL delivers the notification only once the writing transaction
has committed. A worker listens on its own connection, opened before its first look at the queue,
so a message committed between that look and the wait is not missed: its notification is already
waiting on the connection. SQLite has no notifications: the wait is the poll interval, as before.

The wait is a hint, never the source of truth: a worker still reads the queue after every wake and
after every timeout, so a lost connection or notification only costs the poll interval.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import psycopg
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger("custody.exchange.wakeup")
CHANNEL = "custody_messages"
STOP_CHECK = 0.5  # seconds: how soon a waiting worker notices it was told to stop
RETRY = 30.0  # seconds between two attempts to listen again after a failure


class Wakeup:
    def __init__(self, engine: Engine, stop: threading.Event | None = None) -> None:
        self._engine = engine
        self._stop = stop or threading.Event()
        self._listening: Connection | None = None
        self._schema = ""
        self._next_attempt = 0.0
        self.listen()

    @property
    def listening(self) -> bool:
        return self._listening is not None

    def listen(self) -> None:
        """Start listening (PostgreSQL only); on failure the worker polls, and tries again no sooner
        than ``RETRY`` seconds later (a server that is down is not asked five times a second)."""
        if self._engine.dialect.name != "postgresql" or self._listening is not None:
            return
        if time.monotonic() < self._next_attempt:
            return
        self._next_attempt = time.monotonic() + RETRY
        connection: Connection | None = None
        try:
            connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            self._schema = str(connection.exec_driver_sql("SELECT current_schema()").scalar())
            connection.exec_driver_sql(f"LISTEN {CHANNEL}")
        except SQLAlchemyError:
            log.warning("cannot listen for new messages; polling instead, trying again in %s s", RETRY, exc_info=True)
            if connection is not None:
                connection.invalidate()
                connection.close()
            return
        self._listening = connection

    def wait(self, timeout: float) -> bool:
        """Return True as soon as a message of this store is committed, False after ``timeout``
        seconds (or once the worker is told to stop)."""
        if self._listening is None:
            self.listen()
        if self._listening is None:
            self._stop.wait(timeout)
            return False
        deadline = time.monotonic() + timeout
        driver: Any = self._listening.connection.driver_connection
        try:
            while (left := deadline - time.monotonic()) > 0 and not self._stop.is_set():
                # Several commits may have notified: take every notification waiting, then go.
                payloads = [n.payload for n in driver.notifies(timeout=min(left, STOP_CHECK), stop_after=1)]
                payloads += [n.payload for n in driver.notifies(timeout=0)]
                if self._schema in payloads:
                    return True
        except (psycopg.Error, OSError):  # the connection is gone; notifies() raises the driver's own errors
            log.warning("lost the connection listening for new messages; polling until it is back", exc_info=True)
            self.close()
            self._next_attempt = 0.0  # the server may well be there: try at the next wait
            self._stop.wait(max(0.0, deadline - time.monotonic()))
        return False

    def close(self) -> None:
        if self._listening is not None:
            try:
                self._listening.invalidate()  # never back to the pool: it is LISTENing, or broken
                self._listening.close()
            except SQLAlchemyError:
                log.debug("closing the listening connection failed", exc_info=True)
            self._listening = None
