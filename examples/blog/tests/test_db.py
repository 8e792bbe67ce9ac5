import sqlite3

import pytest

from examples.blog.db import get_db


def test_get_close_db(app):
    with app.app_context():
        db = get_db()
        assert db is get_db()

    with pytest.raises(sqlite3.ProgrammingError) as e:
        db.execute("SELECT 1")

    assert "closed" in str(e.value)


def test_init_db_command(runner, monkeypatch):
    class Recorder:
        called = False

    def fake_init_db():
        Recorder.called = True

    monkeypatch.setattr("examples.blog.db.init_db", fake_init_db)
    result = runner.invoke(args=["init-db"])
    assert "Initialized" in result.output
    assert Recorder.called


def test_init_db_clears_data(app, runner):
    # app.cli runs the command as Flask's does: the test pushes the context
    # that the `flaskish` command pushes for it
    with app.app_context():
        result = runner.invoke(args=["init-db"])
        assert result.output == "Initialized the database.\n"
        assert get_db().execute("SELECT COUNT(*) FROM user").fetchone()[0] == 0
