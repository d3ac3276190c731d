"""The dependency of the routes that change one record carries the right it checked, so the check on
the record itself is of that same right; a caller without it is refused before the route runs."""

from __future__ import annotations

from typing import Any

import pytest

from custody.access.policy import Forbidden, Op, Resource
from custody.access.roles import DEMO_USERS
from custody.api.auth import Allowed, allowed


def _check(dependency: object) -> Any:
    return dependency.dependency  # type: ignore[attr-defined]  # FastAPI's Depends keeps the callable


def test_the_right_declared_by_the_route_is_the_one_carried_to_the_record_s_check() -> None:
    federal = DEMO_USERS["demo-federal-officer-chicago"]
    assert _check(allowed(Resource.request, Op.cancel))(federal) == Allowed(federal, Resource.request, Op.cancel)


def test_a_caller_without_the_right_is_refused_by_the_dependency() -> None:
    jail = DEMO_USERS["demo-jail-officer-cook"]
    with pytest.raises(Forbidden):
        _check(allowed(Resource.request, Op.cancel))(jail)  # cancelling is the federal side's
