"""The CLI runner of :meth:`Flask.test_cli_runner
<flaskish.Flask.test_cli_runner>`: click's runner bound to an app (Flask's
``flask.testing.FlaskCliRunner``, importable from :mod:`flaskish.testing`
too)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from click.testing import CliRunner, Result

from .discovery import ScriptInfo

if TYPE_CHECKING:
    from .app import Flask

__all__ = ["FlaskCliRunner"]


class FlaskCliRunner(CliRunner):
    """A click :class:`~click.testing.CliRunner` bound to an app, from
    :meth:`Flask.test_cli_runner <flaskish.Flask.test_cli_runner>`:
    ``runner.invoke(args=["init-db"])`` runs ``flaskish init-db``.

    :param app: the app whose commands are run.
    :param kwargs: passed to :class:`~click.testing.CliRunner`.
    """

    def __init__(self, app: Flask, **kwargs: Any) -> None:
        self.app = app
        super().__init__(**kwargs)

    def invoke(  # type: ignore[override]
        self, cli: Any = None, args: Any = None, **kwargs: Any
    ) -> Result:
        """Run a command and return its :class:`~click.testing.Result`
        (``output``, ``exit_code``, ``exception``).

        Unlike Flask, the app's ``debug`` is left as the test set it
        (Flask resets it from ``FLASK_DEBUG``).

        :param cli: the command; default ``app.cli``.
        :param args: the arguments, such as ``["init-db", "--force"]``.
        :param kwargs: passed to :meth:`click.testing.CliRunner.invoke`
            (``input``, ``env``, ``catch_exceptions``); ``obj`` defaults to
            a :class:`~flaskish.cli.ScriptInfo` that loads this app.
        """
        if cli is None:
            cli = self.app.cli
        if "obj" not in kwargs:
            kwargs["obj"] = ScriptInfo(create_app=lambda: self.app, set_debug_flag=False)
        return super().invoke(cli, args, **kwargs)
