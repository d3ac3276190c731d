"""custody keeps its own copy of the decision contracts; it must equal the shared original."""

from __future__ import annotations

import json

from custody.law.contract import CONTRACTS
from tests.conftest import need_shared


def test_the_packaged_contracts_equal_the_shared_ones() -> None:
    shared = need_shared() / "contracts"
    for name in ("decision-request.schema.json", "decision.schema.json"):
        assert json.loads((CONTRACTS / name).read_text()) == json.loads((shared / name).read_text()), name
