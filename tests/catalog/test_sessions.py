"""``db.session``: one session factory per database (a factory per session made a new ``Session``
class each time, whose event dispatch SQLAlchemy then built anew: 7 % of a key lookup), committing
on success and rolling back on error."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from catalog import db


def test_sessions_of_one_database_share_their_class_and_its_dispatch(database_url: str) -> None:
    with db.session(database_url) as first:
        first_class, dispatch = type(first), type(first).dispatch
    with db.session(database_url) as second:
        assert type(second) is first_class and type(second).dispatch is dispatch


def test_a_session_commits_on_success_and_rolls_back_on_error(database_url: str) -> None:
    with db.session(database_url) as s:
        s.execute(text("CREATE TABLE IF NOT EXISTS probe (n INTEGER)"))
    with db.session(database_url) as s:
        s.execute(text("INSERT INTO probe VALUES (1)"))
    with pytest.raises(RuntimeError), db.session(database_url) as s:
        s.execute(text("INSERT INTO probe VALUES (2)"))
        raise RuntimeError("the caller failed")
    with db.session(database_url) as s:
        assert s.execute(text("SELECT n FROM probe")).scalars().all() == [1]
