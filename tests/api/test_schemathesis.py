"""The OpenAPI contract, fuzzed: schemathesis generates requests for every operation in
/openapi.json (valid and invalid), signed in as an administrator (who may read everything) and as
a jail officer (who may write), over the app in process. No answer may be a 5xx; every 4xx must be
an RFC 9457 problem (application/problem+json) whose detail says something."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from custody.access.tokens import Issuer
from custody.api.app import create_app
from custody.domain.clock import ManualClock
from custody.service import Custody
from custody.sim.demo import load_demo
from custody.store import db
from tests.access.support import bearer

_state: dict[str, Any] = {}


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    folder = Path(tmp_path_factory.mktemp("fuzz"))
    engine = db.make_engine(f"sqlite:///{folder / 'custody.db'}")
    db.upgrade(engine)
    service = Custody(engine, ManualClock(datetime.fromisoformat("2017-08-20T08:00:00-05:00")), actor="fuzz")
    load_demo(service)
    issuer = Issuer.local(folder)
    _state["headers"] = [bearer(issuer, "administrator"), bearer(issuer, "jail_officer@cook")]
    yield schemathesis.openapi.from_asgi("/openapi.json", create_app(service, tick_seconds=None, issuer=issuer))
    engine.dispose()


def _check(case: Any, failures: list[str]) -> None:
    for headers in _state["headers"]:
        response = case.call(headers={**(case.headers or {}), **headers})
        where = f"{case.method} {case.formatted_path}"
        if response.status_code >= 500:
            failures.append(f"{where}: {response.status_code} {response.text[:300]}")
        elif response.status_code >= 400:
            kind = str(response.headers.get("content-type", ""))
            if "application/problem+json" not in kind:
                failures.append(f"{where}: {response.status_code} answered as {kind}, not problem+json")
            elif not response.json().get("detail"):
                failures.append(f"{where}: a problem without detail")


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_no_server_error_and_every_client_error_is_a_problem(api_schema: Any, mode: GenerationMode) -> None:
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 40, "every endpoint is in the contract"
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=5, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            _check(case, failures)

        try:
            run()
        except Unsatisfiable:
            assert mode == GenerationMode.NEGATIVE, f"{operation.label}: no valid input could be generated"
            # Nothing about this operation can be made invalid (no parameters, no body).
    assert not failures, "\n".join(sorted(set(failures))[:40])
