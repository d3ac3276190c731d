"""Opening the store: a URL custody cannot use is refused with what to set instead."""

from __future__ import annotations

import pytest

from custody.domain.errors import InvalidInput
from custody.store import db


def test_a_database_custody_does_not_run_on_is_refused_saying_which_it_does() -> None:
    with pytest.raises(InvalidInput, match="SQLite or PostgreSQL, not 'mysql': give sqlite:///PATH"):
        db.make_engine("mysql://user@host/db")
