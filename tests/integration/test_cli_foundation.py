"""The foundation commands as a user runs them: output, JSON for scripts, exit codes 0 / 1 / 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lanportfolj.cli import app

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).parent.parent / "fixtures"
runner = CliRunner()


def run(settings, *args: str):
    return runner.invoke(app, ["--database-url", settings.database_url, *args])


def test_db_upgrade_on_a_new_sqlite_file(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    result = runner.invoke(app, ["--database-url", url, "db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "newest schema" in result.output
    again = runner.invoke(app, ["--database-url", url, "db", "upgrade"])
    assert again.exit_code == 0
    assert "0 indicator(s) added" in again.output


def test_commands_on_an_unmigrated_database_say_what_to_do(tmp_path):
    result = runner.invoke(
        app, ["--database-url", f"sqlite:///{tmp_path / 'x.db'}", "loans", "list"]
    )
    assert result.exit_code == 2
    assert "db upgrade" in result.output


def test_portfolio_load_then_loans_show_json(settings):
    loaded = run(settings, "portfolio", "load", str(FIXTURES / "portfolio_small"), "--json")
    assert loaded.exit_code == 0, loaded.output
    assert json.loads(loaded.stdout)["accepted"] is True
    shown = run(settings, "loans", "show", "SH-2023-001", "--json")
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    assert data["amount"] == "3800000000"
    assert data["case"]["social_need"].startswith("Residents feel unsafe")
    renovated = next(i for i in data["indicators"] if i["code"] == "dwellings_renovated")
    assert renovated["baseline"] == {"value": "0", "year": 2022}
    assert renovated["target"] == {"value": "1200", "year": 2030}
    assert [m["value"] for m in renovated["measurements"]] == ["150", "300"]

    listing = run(settings, "loans", "list", "--json")
    assert [row["reference"] for row in json.loads(listing.stdout)] == ["SH-2023-001"]
    bonds = run(settings, "bonds", "list", "--json")
    assert json.loads(bonds.stdout)[0]["pool_loans"] == 1


def test_unknown_loan_is_rejected_with_exit_1(settings):
    result = run(settings, "loans", "show", "SH-0000-000")
    assert result.exit_code == 1
    assert "SH-0000-000" in result.output


def test_usage_error_exits_2(settings):
    result = run(settings, "loans", "show")
    assert result.exit_code == 2


def test_rejected_portfolio_lists_problems_and_exits_1(settings, tmp_path):
    import shutil

    target = tmp_path / "p"
    shutil.copytree(FIXTURES / "portfolio_small", target)
    toml = target / "portfolio.toml"
    toml.write_text(toml.read_text().replace('orgnr = "212000-0142"', 'orgnr = "212000-0143"'))
    result = run(settings, "portfolio", "load", str(target))
    assert result.exit_code == 1
    assert "borrower #1" in result.output and "orgnr" in result.output
    assert "nothing was written" in result.output
    assert json.loads(run(settings, "loans", "list", "--json").stdout) == []


def test_library_check_on_the_shipped_library_and_a_broken_one():
    ok = runner.invoke(app, ["library", "check"])
    assert ok.exit_code == 0, ok.output
    assert "no problems" in ok.output
    broken = runner.invoke(
        app, ["library", "check", str(FIXTURES / "library_bad" / "ratio_missing_part"), "--json"]
    )
    assert broken.exit_code == 1
    report = json.loads(broken.stdout)
    assert report["ok"] is False
    assert report["issues"][0]["field"] == "denominator"


def test_library_list_json_has_every_indicator():
    result = runner.invoke(app, ["library", "list", "--json"])
    assert result.exit_code == 0
    items = json.loads(result.stdout)
    assert len(items) >= 30
    assert {"code", "name_sv", "name_en", "aggregation"} <= set(items[0])
