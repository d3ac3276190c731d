"""Measured gains of proposed core changes, without changing the core: each variant patches one
function in this process only, runs the same end-to-end benchmark, and prints its figures beside
the unpatched run. The proposals themselves are written up in docs/performance.md.

    .venv/bin/python bench/e2e_experiments.py --bookings 1000

Variants:
  as_is        the core as it stands
  fastjson     envelope data checked with fastjsonschema (already a dependency) instead of jsonschema's
               iter_errors; jsonschema still words the error when a check fails
  core_settle  the delivery row settled with a Core UPDATE (no ORM session synchronisation)
  both         fastjson + core_settle
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import fastjsonschema
from rich.console import Console
from sqlalchemy import update

from custody.exchange import envelope, worker
from custody.sim.bench import run_e2e
from custody.store.models import DeliveryRow
from custody.store.unit import Unit


@cache
def _compiled(message_type: envelope.MessageType) -> Callable[[Any], Any]:
    schema = json.loads((envelope.SCHEMAS / message_type.schema_file).read_text())
    return fastjsonschema.compile(schema)  # type: ignore[no-any-return]


def _fast_check(message_type: envelope.MessageType, data: Any) -> None:
    try:
        _compiled(message_type)(data)
    except fastjsonschema.JsonSchemaException:
        _original_check(message_type, data)  # the full validator words the refusal
        raise envelope.MessageRefused(f"{message_type.type}: data fails its schema") from None


def _core_settle(unit: Unit, message_id: str, state: str, reason: str | None = None) -> None:
    unit.session.connection().execute(
        update(DeliveryRow.__table__)
        .where(DeliveryRow.__table__.c.message_id == message_id)  # type: ignore[arg-type]
        .values(state=state, last_error=reason)
    )


_original_check = envelope._check_data
_original_settle = worker._settle


@contextmanager
def variant(name: str) -> Iterator[None]:
    if name in ("fastjson", "both"):
        envelope._check_data = _fast_check
    if name in ("core_settle", "both"):
        worker._settle = _core_settle
    try:
        yield
    finally:
        envelope._check_data = _original_check
        worker._settle = _original_settle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bookings", type=int, default=1000)
    parser.add_argument("--variants", default="as_is,fastjson,core_settle,both")
    args = parser.parse_args()
    console = Console(stderr=True)
    results = {}
    for name in args.variants.split(","):
        with variant(name):
            figures = run_e2e(args.bookings, 1, console)
        results[name] = {k: figures[k] for k in ("bookings_per_s", "cpu_seconds", "seconds", "ratio", "errors")}
        console.print(name, results[name])
    base = results.get("as_is")
    if base:
        for figures in results.values():
            figures["cpu_gain_vs_as_is"] = round(base["cpu_seconds"] / figures["cpu_seconds"], 3)
    sys.stdout.write(json.dumps(results) + "\n")


if __name__ == "__main__":
    main()
