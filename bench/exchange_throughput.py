"""Messages per second through each transport (issue 4), beside a raw baseline in the same run.

Each "message" is a real cancellation envelope (schema-checked, CloudEvents JSON) applied by the
worker with its inbox row and effect in one transaction. Baseline: the same number of rows inserted
into a fresh store of the same kind with one batched INSERT, so the ratio says what the exchange's
guarantees cost over writing the data at all.

    .venv/bin/python bench/exchange_throughput.py [--messages 2000] [--store sqlite|postgres] [--nats]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from custody.exchange.catalogue import BY_TYPE
from custody.exchange.envelope import build
from custody.exchange.worker import drain
from custody.service import Custody
from custody.store.models import DeliveryRow, InboxRow, MessageRow
from custody.store.scratch import scratch_store


def _seed(custody: Custody, n: int) -> None:
    """n messages to the federal party whose effect is only the inbox record (a release notice)."""
    message_type = BY_TYPE["gov.custody.release.notified.v1"]
    now = datetime.now(UTC)
    rows, deliveries = [], []
    for i in range(n):
        message = build(
            f"m{i}",
            message_type,
            "urn:custody:local:x",
            f"bkg_{i}",
            now,
            "federal",
            {
                "booking_id": f"bkg_{i}",
                "request_id": f"req_{i}",
                "agency": "ocd-division/country:us/state:il/county:cook",
                "release_at": now.isoformat(),
                "advance_hours": 0,
            },
        )
        rows.append(
            {
                "seq": i + 1,
                "id": message.id,
                "type": message_type.type,
                "to_party": "federal",
                "subject": message.subject,
                "envelope": message.to_json().decode(),
                "created_at": now,
            }
        )
        deliveries.append(
            {"message_id": message.id, "seq": i + 1, "party": "federal", "state": "pending", "attempts": 0}
        )
    with custody.unit() as unit:
        unit.session.execute(insert(MessageRow), rows)
        if custody.transport == "inproc":
            unit.session.execute(insert(DeliveryRow), deliveries)


def baseline(kind: str, n: int) -> float:
    custody = Custody.open(scratch_store(kind, Path(tempfile.mkdtemp()), "bench_exchange"), inline=False)
    now = datetime.now(UTC)
    rows = [{"party": "federal", "message_id": f"m{i}", "applied_at": now} for i in range(n)]
    started = time.perf_counter()
    with custody.unit() as unit:
        unit.session.execute(insert(InboxRow), rows)
    return n / (time.perf_counter() - started)


def inproc(kind: str, n: int) -> float:
    custody = Custody.open(scratch_store(kind, Path(tempfile.mkdtemp()), "bench_exchange"), inline=False)
    _seed(custody, n)
    started = time.perf_counter()
    applied = drain(custody)
    assert applied == n, applied
    return n / (time.perf_counter() - started)


def over_nats(kind: str, n: int) -> float:
    from custody.exchange.nats import NatsTransport, stream_name

    custody = Custody.open(
        scratch_store(kind, Path(tempfile.mkdtemp()), "bench_exchange"), transport="nats", inline=False
    )
    _seed(custody, n)
    prefix = f"bench{uuid.uuid4().hex[:6]}"

    async def run() -> float:
        transport = NatsTransport(custody, prefix=prefix)
        await transport.start()
        started = time.perf_counter()
        done = 0
        while done < n:
            await transport.relay(limit=500)
            done += await transport.consume("federal", batch=200, timeout=0.5)
        rate = n / (time.perf_counter() - started)
        await transport.js.delete_stream(stream_name(prefix))
        await transport.close()
        return rate

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--store", default="sqlite", choices=["sqlite", "postgres"])
    parser.add_argument("--nats", action="store_true", help="also measure NATS JetStream")
    args = parser.parse_args()
    base = baseline(args.store, args.messages)
    print(f"store {args.store}, {args.messages} messages")
    print(f"baseline (one batched INSERT of the inbox rows): {base:,.0f} rows/s")
    rate = inproc(args.store, args.messages)
    print(f"in-process transport, applied with inbox and lease: {rate:,.0f} messages/s  (ratio {rate / base:.4f})")
    if args.nats:
        rate = over_nats(args.store, args.messages)
        print(f"NATS JetStream, relayed and applied: {rate:,.0f} messages/s  (ratio {rate / base:.4f})")


if __name__ == "__main__":
    main()
