"""``lanportfolj power``: the sentence, the JSON, and exit codes 0 / 1 / 2."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import lanportfolj.cli.evaluation  # noqa: F401  (registers the command, also before the lead's import)
from lanportfolj.cli import app
from lanportfolj.domain.power import mde_proportions, n_for_means

pytestmark = pytest.mark.unit

runner = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["power", *args])
    return result.exit_code, result.output


def test_the_articles_example_40_per_group_at_5_percent() -> None:
    code, out = _run(
        "--outcome", "binary", "--base-rate", "0.05", "--n-per-arm", "40", "--lang", "en"
    )
    assert code == 0
    assert out.strip() == (
        "With 40 per group and a base rate of 5.0 %, the smallest detectable effect is 21.3 "
        "percentage points (two-sided test, α = 0.05; 80 % power)."
    )
    code, out = _run(
        "--outcome", "binary", "--base-rate", "0.05", "--n-per-arm", "40", "--lang", "sv"
    )
    assert code == 0
    assert out.startswith("Med 40 per grupp och basnivån 5,0 % är den minsta effekt")
    assert "21,3 procentenheter" in out


def test_json_holds_every_input_and_the_result() -> None:
    code, out = _run(
        "--outcome",
        "binary",
        "--base-rate",
        "0.05",
        "--n-per-arm",
        "200",
        "--alpha",
        "0.1",
        "--power",
        "0.9",
        "--one-sided",
        "--icc",
        "0.05",
        "--cluster-size",
        "20",
        "--json",
    )
    assert code == 0
    data = json.loads(out)
    assert data["inputs"] == {
        "outcome": "binary",
        "base_rate": 0.05,
        "sd": None,
        "n_per_arm": 200,
        "effect": None,
        "alpha": 0.1,
        "power": 0.9,
        "two_sided": False,
        "icc": 0.05,
        "cluster_size": 20.0,
    }
    result = data["result"]
    assert result["design_effect"] == pytest.approx(1.95)
    assert result["effect"] == pytest.approx(
        mde_proportions(
            base_rate=0.05,
            n_per_arm=200,
            alpha=0.1,
            power=0.9,
            two_sided=False,
            design_effect=1.95,
        )
    )
    assert result["message_sv"] and result["message_en"]


def test_effect_gives_the_sample_size_for_a_continuous_outcome() -> None:
    code, out = _run(
        "--outcome", "continuous", "--sd", "15", "--effect", "5", "--json", "--lang", "en"
    )
    assert code == 0
    result = json.loads(out)["result"]
    assert result["solved_for"] == "n"
    assert result["n_per_arm"] == n_for_means(sd=15, effect=5)
    # a negative effect (a decrease) is a value, not an option
    code, out = _run("--outcome", "binary", "--base-rate", "0.05", "--effect", "-0.02")
    assert code == 0
    assert "till 3,0 %" in out or "to 3.0 %" in out


@pytest.mark.parametrize(
    "args",
    [
        ("--outcome", "binary", "--base-rate", "1.5", "--n-per-arm", "40"),
        ("--outcome", "binary", "--base-rate", "0.05", "--n-per-arm", "1"),
        ("--outcome", "continuous", "--sd", "-3", "--n-per-arm", "40"),
        ("--outcome", "binary", "--base-rate", "0.05", "--n-per-arm", "40", "--power", "0.01"),
        ("--outcome", "binary", "--base-rate", "0.05", "--effect", "0.99"),
        ("--outcome", "binary", "--base-rate", "0.05", "--n-per-arm", "40", "--icc", "2",
         "--cluster-size", "20"),
    ],
)  # fmt: skip
def test_impossible_values_are_rejected_in_both_languages(args: tuple[str, ...]) -> None:
    code, out = _run(*args)
    assert code == 1
    assert "Traceback" not in out
    # Swedish / English, in one message
    assert " / " in out and "error" in out


@pytest.mark.parametrize(
    "args",
    [
        ("--outcome", "binary", "--n-per-arm", "40"),
        ("--outcome", "binary", "--base-rate", "0.05"),
        ("--outcome", "binary", "--base-rate", "0.05", "--n-per-arm", "40", "--effect", "0.1"),
        ("--outcome", "continuous", "--base-rate", "0.05", "--n-per-arm", "40"),
        ("--outcome", "binary", "--base-rate", "0.05", "--n-per-arm", "40", "--icc", "0.05"),
        ("--outcome", "ordinal", "--base-rate", "0.05", "--n-per-arm", "40"),
        ("--outcome", "binary", "--base-rate", "five", "--n-per-arm", "40"),
    ],
)
def test_usage_errors_exit_2(args: tuple[str, ...]) -> None:
    code, _out = _run(*args)
    assert code == 2
