"""The command line starts without importing what only some commands need (issue 15 item 2).

``lanportfolj --help`` lists every command from ``lanportfolj.cli.COMMANDS``; the modules are imported
only when a command runs. These tests keep the table honest and the start-up light.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer import _click as click
from typer._coercion import RuntimeParam, build_runtime_param
from typer.core import TyperGroup, _TyperParameter
from typer.main import get_command
from typer.testing import CliRunner

from lanportfolj.cli import COMMANDS, _DeferredRuntimeParam, app, load_all_commands

SRC = str(Path(__file__).resolve().parents[2] / "src")
HEAVY = ("polars", "alembic", "httpx", "plotly", "litestar", "sqlalchemy", "xlsxwriter", "jinja2")


def _first_paragraph(text: str | None) -> str:
    return " ".join((text or "").strip().split("\n\n")[0].split())


def _modules_after(*args: str, env: dict[str, str] | None = None) -> tuple[set[str], str]:
    """The modules a fresh ``lanportfolj ARGS`` process has imported when it exits, and its stdout."""
    code = (
        "import atexit, json, sys\n"
        "atexit.register(lambda: sys.__stderr__.write('MODULES' + json.dumps(sorted(sys.modules))))\n"
        "from lanportfolj.cli import app\n"
        f"sys.argv = ['lanportfolj', *{list(args)!r}]\n"
        "app()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": SRC, **(env or {})},
        timeout=120,
    )
    modules = json.loads(result.stderr.rsplit("MODULES", 1)[1])
    return {m.split(".")[0] for m in modules}, result.stdout


def test_the_listing_says_what_the_commands_say() -> None:
    load_all_commands()
    built = get_command(app)
    assert isinstance(built, TyperGroup)
    real = {name: cmd for name, cmd in built.commands.items() if not cmd.hidden}
    assert set(real) == set(COMMANDS), "every command is in COMMANDS, and COMMANDS names no other"
    for name, entry in COMMANDS.items():
        assert entry.help == _first_paragraph(real[name].help), name


def test_help_lists_every_command_without_importing_heavy_modules() -> None:
    modules, out = _modules_after("--help")
    assert not modules & set(HEAVY), f"--help imported {sorted(modules & set(HEAVY))}"
    for name, entry in COMMANDS.items():
        assert name in out
        assert entry.help.split()[0] in out


def test_version_is_printed_without_importing_heavy_modules() -> None:
    modules, out = _modules_after("--version")
    assert out.strip().startswith("lanportfolj ")
    assert not modules & set(HEAVY)


def test_a_listing_imports_neither_alembic_polars_httpx_plotly_nor_litestar(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'start.db'}"
    result = CliRunner().invoke(app, ["--database-url", url, "db", "upgrade"])
    assert result.exit_code == 0, result.output
    modules, out = _modules_after("--database-url", url, "bonds", "list", "--json")
    assert json.loads(out) == []
    # the listing reads through sqlite3 (lanportfolj.listings): no ORM, and typer builds no pydantic adapter
    assert not modules & {*HEAVY, "sqlmodel", "pydantic"}, sorted(modules & {*HEAVY, "pydantic"})


def _outcome(runtime: RuntimeParam, value: object, param: _TyperParameter, ctx: click.Context):
    try:
        got = runtime.coerce(value, param=param, ctx=ctx)
    except click.BadParameter as exc:
        return "refused", exc.format_message()
    return type(got).__name__, got


def test_deferred_coercion_gives_what_typers_adapters_give(tmp_path: Path) -> None:
    """Every str, list[str] and Path parameter of every command, coerced without pydantic, comes out as
    typer's own pydantic adapter makes it: the same value and type, or the same refusal."""
    load_all_commands()
    existing_file = tmp_path / "file.csv"
    existing_file.write_text("x", encoding="utf-8")
    samples: dict[str, list[object]] = {
        "str": ["", "SH-2023-001", " spaced ", "å"],
        "list": [("active",), ("active", "draft"), ()],
        "path": [str(existing_file), str(tmp_path), str(tmp_path / "missing"), "./rel/../x.csv"],
    }
    checked = 0

    def walk(command: click.Command) -> None:
        nonlocal checked
        for param in command.params:
            if not isinstance(param, _TyperParameter):
                continue
            annotation = param.type_descriptor.annotation
            kind = (
                "str"
                if annotation is str
                else "list"
                if annotation == list[str]
                else "path"
                if isinstance(annotation, type) and issubclass(annotation, Path)
                else None
            )
            if kind is None:
                continue
            ctx = click.Context(command)
            typers = build_runtime_param(param.type_descriptor)
            ours = _DeferredRuntimeParam(
                parameter_info=param.type_descriptor.parameter_info,
                annotation=annotation,
                descriptor=param.type_descriptor,
            )
            for value in samples[kind]:
                assert _outcome(ours, value, param, ctx) == _outcome(typers, value, param, ctx), (
                    command.name,
                    param.name,
                    value,
                )
                checked += 1
        for sub in getattr(command, "commands", {}).values():
            walk(sub)

    walk(get_command(app))
    assert checked > 50


def test_other_values_keep_typers_messages() -> None:
    result = CliRunner().invoke(app, ["serve", "--port", "eighty"])
    assert result.exit_code == 2
    assert "Input should be a valid integer" in result.output


@pytest.mark.parametrize("name", ["loans", "demo"])
def test_a_group_spread_over_two_modules_has_all_its_subcommands(name: str) -> None:
    result = CliRunner().invoke(app, [name, "--help"])
    assert result.exit_code == 0, result.output
    expected = {"loans": ("list", "show", "submit", "decide"), "demo": ("load", "synth")}[name]
    for sub in expected:
        assert sub in result.output


def test_an_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["bnods"])
    assert result.exit_code == 2


def test_a_group_built_from_one_module_gets_the_other_modules_subcommands() -> None:
    """``db`` loads portfolio.py, which defines ``demo``; ``demo synth`` (synth.py) must still be found."""
    code = (
        "from typer.testing import CliRunner\n"
        "from lanportfolj.cli import app\n"
        "r = CliRunner()\n"
        "assert r.invoke(app, ['db', '--help']).exit_code == 0\n"
        "out = r.invoke(app, ['demo', '--help']).output\n"
        "print('synth' in out)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": SRC},
        timeout=120,
    )
    assert result.stdout.strip() == "True", result.stderr


def test_the_migration_heads_read_by_pattern_are_the_parsed_ones() -> None:
    """``schema_heads`` reads each script's two revision lines by a pattern (every command checks the
    schema); for every shipped script that must be what parsing the whole module gives."""
    from lanportfolj.schema_heads import _revisions_of, _revisions_parsed, migrations_dir

    scripts = sorted(migrations_dir().glob("*.py"))
    assert scripts
    for script in scripts:
        source = script.read_text(encoding="utf-8")
        assert _revisions_of(source, str(script)) == _revisions_parsed(source, str(script))
    several_lines = 'revision = "b"\ndown_revision = (\n    "a1",\n    "a2",\n)\n'
    assert _revisions_of(several_lines, "merge.py") == {
        "revision": ("b",),
        "down_revision": ("a1", "a2"),
    }


def test_a_csv_import_loads_no_workbook_library(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'start.db'}"
    assert CliRunner().invoke(app, ["--database-url", url, "db", "upgrade"]).exit_code == 0
    csv_file = tmp_path / "values.csv"
    csv_file.write_text("loan,indicator,year,value\nSH-0000-001,x,2025,1\n", encoding="utf-8")
    modules, _ = _modules_after("--database-url", url, "import", str(csv_file), "--json")
    # xlsxwriter writes templates, fastexcel reads workbooks: neither is needed for a CSV
    assert not modules & {"xlsxwriter", "fastexcel", "openpyxl"}, sorted(modules)
