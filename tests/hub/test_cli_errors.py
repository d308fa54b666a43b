"""Every ``hub`` command, given bad arguments, says what is wrong in one line and exits non-zero.

The commands are found by walking the command tree typer builds, so a command added later is
covered without editing this file. Each is run (in process, on a HUB_HOME with one published
dataset and one client) with an unknown option, without its required arguments, and then with
one bad value at a time — an unknown dataset, client or id, a malformed number, date or choice,
a path that cannot be read or written — while every other argument is valid. The answer must be
a non-zero exit, a line starting with ``error:`` (ours) or ``Error:`` (click's usage errors) that
names the value or the parameter, and no traceback.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest
import typer
from typer.testing import CliRunner

from access import grants
from catalog import clients, db
from catalog.models import utcnow
from contracts import model
from hub.cli import app
from hub.settings import Settings, get_settings
from stewardship import disputes
from tests.published import DATASET, publish_export

CLIENT = "cli-errors-app"
UNWRITABLE = "/proc/no-such-folder/out.bin"  # not writable even by root

FILLER: dict[str, str] = {
    # a valid value for each parameter the commands need, so the value under test is the only fault
    "dataset": DATASET,
    "datasets": DATASET,
    "client": CLIENT,
    "name": "gb11643",
    "values": "11010519491231002X",
    "query": "SELECT count(*) AS n FROM population.residents",
    "since": "1",
    "to": "http://127.0.0.1:9",
    "token": "not-a-token",
    "purpose": "tests of the command line",
    "reason": "tests of the command line",
    "standards show name": "dongcheng_streets",
    "contracts export fmt": "jsonschema",
    "contracts diff old": str(Path(__file__).parents[2] / "contracts" / "datasets" / f"{DATASET}.yaml"),
    "contracts diff new": str(Path(__file__).parents[2] / "contracts" / "datasets" / f"{DATASET}.yaml"),
}
"""Valid values by parameter name (or command and parameter name, which wins); the fixture adds the
ids of things it made (an access request, a dispute). A parameter not named here gets ``no-such-<name>``."""

BAD: dict[str, str | tuple[str, str]] = {
    # a value each text parameter must refuse, by its name: the value, or (value, what the error names)
    "datasets": "no.such_dataset",
    "client": "no-such-client",
    "name": "no_such_standard",
    "dataset": "no.such_dataset",
    "query": "SELEKT nothing FROM nowhere",
    "since": "99",
    "until": "99",
    "as_of": "99",
    "fmt": "no-such-format",
    "encoding": "no-such-encoding",
    "status": "no-such-status",
    "version": "1066",
    "dialect": "no-such-dialect",
    "fields": "no_such_field",
    "clear": "no_such_field",
    "rows": ("no_such_column = 1", "no_such_column"),
    "to": "not-a-url",
    "host": "no-such-host.invalid",
}
FREE_TEXT = {"label", "organization", "purpose", "reason", "by", "token", "values", "keys create client"}
"""Text parameters any value is right for (a note, a name to create, a value to check), by name or
by command and name."""

runner = CliRunner()


def _leaves(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    subcommands = getattr(command, "commands", None)
    if subcommands is None:
        yield path, command
        return
    for name, sub in sorted(subcommands.items()):
        yield from _leaves(sub, (*path, name))


COMMANDS = dict(_leaves(typer.main.get_command(app)))


def _annotation(param: Any) -> Any:
    """The parameter's value type (the element type of a list), read off the click type typer made."""
    kind = param.type
    if isinstance(kind, click.types.BoolParamType):
        return bool
    if isinstance(kind, click.types.IntParamType):
        return int
    if isinstance(kind, click.types.FloatParamType):
        return float
    if isinstance(kind, click.DateTime):
        return dt.datetime
    if isinstance(kind, click.Choice):
        return enum.Enum
    if isinstance(kind, click.Path) or type(kind).__name__ == "TyperPath":
        return Path
    return str


def _is_option(param: Any) -> bool:
    return bool(getattr(param, "opts", None)) and param.opts[0].startswith("-")


def _flag(param: Any) -> bool:
    return bool(getattr(param, "is_flag", False)) or _annotation(param) is bool


def _args(param: Any, value: str) -> list[str]:
    return [param.opts[0], value] if _is_option(param) else [value]


def _named(table: Any, path: tuple[str, ...], param: Any) -> Any:
    """What ``table`` holds for this command's parameter, or for the parameter's name."""
    return table.get(" ".join((*path, param.name)), table.get(param.name))


def _filler(path: tuple[str, ...], param: Any, home: Home) -> str:
    found = _named(home.fillers, path, param)
    if found is not None:
        return str(found)
    if _annotation(param) is Path:
        return str(home.root / f"{param.name}.out")
    return f"no-such-{param.name}"


@dataclass(frozen=True)
class Bad:
    why: str
    value: str
    names: tuple[str, ...]
    """What the error line must mention: the value or one of the parameter's names."""


def _bad_values(path: tuple[str, ...], param: Any) -> list[Bad]:
    """Values ``param`` must refuse, each with what the message must name."""
    if _flag(param) or _named(dict.fromkeys(FREE_TEXT, True), path, param):
        return []
    kind = _annotation(param)
    names = (*getattr(param, "opts", ()), param.name)
    out: list[Bad] = []
    if kind in (int, float):
        out.append(Bad("not a number", "twelve", names))
        if getattr(param, "min", None) is not None:
            out.append(Bad("below the minimum", str(param.min - 1), names))
        if getattr(param, "max", None) is not None:
            out.append(Bad("above the maximum", str(param.max + 1), names))
    elif kind is dt.datetime:
        out.append(Bad("not a date", "2026-13-45", names))
    elif isinstance(kind, type) and issubclass(kind, enum.Enum):
        out.append(Bad("not a choice", "no-such-choice", names))
    elif kind is Path:
        out.append(Bad("not there and not writable", UNWRITABLE, (str(Path(UNWRITABLE).parent), *names)))
    else:
        value, named = _pair(_named(BAD, path, param) or f"no-such-{param.name}")
        out.append(Bad("unknown", value, (named, *names)))
    return out


def _pair(bad: str | tuple[str, str]) -> tuple[str, str]:
    return (bad, bad) if isinstance(bad, str) else bad


@dataclass(frozen=True)
class Home:
    root: Path
    fillers: dict[str, str]


def _invocation(path: tuple[str, ...], command: Any, home: Home, under_test: Any, value: str) -> list[str]:
    """``hub PATH`` with every argument filled in (and required option given) validly, but one."""
    args = list(path)
    for param in command.params:
        if param.name == "help" or _flag(param):
            continue
        if param is under_test:
            args += _args(param, value)
        elif param.required or not _is_option(param):
            args += _args(param, _filler(path, param, home))
    return args


CASES = [
    pytest.param(path, param.name, bad, id=f"{' '.join(path)} {param.name}: {bad.why}")
    for path, command in COMMANDS.items()
    for param in command.params
    if param.name != "help"
    for bad in _bad_values(path, param)
]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    """HUB_HOME with version 1 of the residents, a client and its pending access request."""
    root = Path(tmp_path_factory.mktemp("cli-errors"))
    settings = Settings(home=root / "hub")
    settings.ensure_dirs()
    publish_export(settings, "v1.csv", rows=30, bad_share=0.0, seed=5)
    with db.session(settings.db_url) as s:
        client = clients.ensure_client(s, CLIENT, role="analyst")
        clients.issue_key(s, client)
        contract = model.find(settings.contracts_dir, DATASET)
        asked = grants.request_access(s, client, contract, fields=["street_code"], purpose="p", legal_basis="b")
        disputed = disputes.file(
            s, client, contract, key="k", locator="0" * 32, field="street_code", claimed_value="v", evidence="e",
            version=1, now=utcnow(),
        )  # fmt: skip
        fillers = {**FILLER, "request_id": asked.id, "dispute_id": disputed.id}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HUB_HOME", str(settings.resolved_home))
        mp.delenv("HUB_DATABASE_URL", raising=False)
        get_settings.cache_clear()
        yield Home(root, fillers)
    get_settings.cache_clear()


def _refused(args: list[str], names: tuple[str, ...]) -> None:
    result = runner.invoke(app, args)
    shown = f"hub {' '.join(args)} → exit {result.exit_code}:\n{result.output}"
    assert result.exception is None or isinstance(result.exception, SystemExit), (shown, result.exception)
    assert result.exit_code not in (0, None), shown
    assert "Traceback" not in result.output, shown
    lines = [line for line in result.output.splitlines() if line.lower().startswith("error:")]
    assert len(lines) == 1, shown
    assert any(name and name in lines[0] for name in names), shown


def test_the_walk_finds_every_command() -> None:
    assert {"versions", "keys revoke", "keys create", "keys list", "generate", "ingest"} <= {
        " ".join(p) for p in COMMANDS
    }
    assert len(COMMANDS) >= 29


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=" ".join)
def test_an_unknown_option_is_refused(path: tuple[str, ...]) -> None:
    _refused([*path, "--no-such-option"], ("--no-such-option",))


@pytest.mark.parametrize(
    "path", sorted(p for p, c in COMMANDS.items() if any(x.required for x in c.params)), ids=" ".join
)
def test_missing_required_arguments_are_named(path: tuple[str, ...]) -> None:
    _refused(list(path), ("Missing",))


@pytest.mark.parametrize(("path", "name", "bad"), CASES)
def test_a_bad_value_is_refused_in_one_line(home: Home, path: tuple[str, ...], name: str, bad: Bad) -> None:
    command = COMMANDS[path]
    param = next(p for p in command.params if p.name == name)
    _refused(_invocation(path, command, home, param, bad.value), bad.names)


def test_a_new_client_role_on_an_existing_client_is_one_line(home: Home) -> None:
    _refused(["keys", "create", CLIENT, "--role", "steward"], ("--change-role",))


def test_generate_into_a_folder_writes_there(home: Home) -> None:
    out = home.root / "exports"
    out.mkdir()
    result = runner.invoke(app, ["generate", DATASET, "--rows", "5", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert [p.suffix for p in out.iterdir()] == [".csv"]


def test_a_malformed_setting_is_one_line_naming_the_variable(home: Home) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HUB_API_PORT", "eighty")
        get_settings.cache_clear()
        try:
            _refused(["files"], ("HUB_API_PORT='eighty'",))
        finally:
            mp.undo()
            get_settings.cache_clear()
