"""Mutation testing of the pure rules (``make mutate``): run mutmut, then print the score per module.

    python tools/mutation_report.py run [--sample N] [--seed S] [--names FILE] [--max-children K]
    python tools/mutation_report.py report [--names FILE]
    python tools/mutation_report.py survivors [--names FILE]

``run`` without ``--sample`` tests every mutant of ``[tool.mutmut] only_mutate`` (see ``pyproject.toml``).
With ``--sample N`` it generates the mutants, draws N of them with a seeded ``random.Random`` (the same
N for the same seed and the same source) and tests only those; mutmut itself cannot sample. The drawn
names are kept in ``mutants/sample.txt`` so ``report --names mutants/sample.txt`` shows the same set again.

The score is killed ÷ (killed + survived + untested): a mutant no unit test reaches counts against the
module, as it would pass any change. Timeouts and crashes count as killed (the mutant changed behaviour);
mutants not yet run are left out and shown as ``pending``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

MUTANTS = Path("mutants")
SAMPLE_FILE = MUTANTS / "sample.txt"

# mutmut 3.8's exit-code vocabulary (mutmut/stats.py); anything else is a crash of the mutant: killed
_STATUS = {
    None: "pending",
    0: "survived",
    5: "untested",
    33: "untested",
    34: "skipped",
    2: "interrupted",
    37: "killed",
}


def _status(exit_code: int | None) -> str:
    return _STATUS.get(exit_code, "killed")


def _load_results() -> dict[str, dict[str, str]]:
    """``{module path: {mutant name: status}}`` from mutmut's ``*.meta`` files."""
    results: dict[str, dict[str, str]] = {}
    for meta in sorted(MUTANTS.glob("src/**/*.py.meta")):
        data = json.loads(meta.read_text(encoding="utf-8"))
        codes = data.get("exit_code_by_key", {})
        if not codes:
            continue
        module = str(meta.relative_to(MUTANTS / "src" / "lanportfolj")).removesuffix(".meta")
        results[module] = {name: _status(code) for name, code in codes.items()}
    return results


def _read_names(path: Path | None) -> set[str] | None:
    if path is None:
        return None
    return {line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}


def report(names: set[str] | None = None) -> int:
    """Print the score per module (restricted to ``names`` when given); 1 when nothing has run."""
    results = _load_results()
    if not results:
        print("no mutmut results under mutants/: run `make mutate` first", file=sys.stderr)
        return 1
    header = f"{'module':<24} {'mutants':>7} {'killed':>7} {'survived':>8} {'untested':>8} {'pending':>7} {'score':>7}"
    print(header)
    print("-" * len(header))
    total: Counter[str] = Counter()
    for module, statuses in results.items():
        counts = Counter(
            status for name, status in statuses.items() if names is None or name in names
        )
        if not counts:
            continue
        total.update(counts)
        print(_row(module, counts))
    print("-" * len(header))
    print(_row("all", total))
    return 0


def _row(label: str, counts: Counter[str]) -> str:
    judged = counts["killed"] + counts["survived"] + counts["untested"]
    score = f"{100 * counts['killed'] / judged:6.1f}%" if judged else "      -"
    return (
        f"{label:<24} {sum(counts.values()):>7} {counts['killed']:>7} {counts['survived']:>8} "
        f"{counts['untested']:>8} {counts['pending']:>7} {score:>7}"
    )


def survivors(names: set[str] | None = None) -> int:
    """Print the surviving and untested mutants, one name a line (``mutmut show NAME`` shows the diff)."""
    for statuses in _load_results().values():
        for name, status in statuses.items():
            if status in ("survived", "untested") and (names is None or name in names):
                print(f"{status:<9} {name}")
    return 0


def _generate(max_children: int) -> None:
    """Let mutmut write the mutants without testing them (the first step of its ``run``)."""
    # mutmut has no command for this step alone; these are the calls its ``run`` starts with (3.8.1)
    from mutmut.__main__ import create_mutants
    from mutmut.mutation.trampoline import set_mutant_under_test
    from mutmut.utils.file_utils import copy_also_copy_files, copy_src_dir, setup_source_paths

    set_mutant_under_test("mutant_generation")
    MUTANTS.mkdir(exist_ok=True)
    copy_src_dir()
    copy_also_copy_files()
    setup_source_paths()
    create_mutants(max_children)


def run(sample: int | None, seed: int, max_children: int, names_file: Path | None = None) -> int:
    """Run mutmut on every mutant, a seeded sample of ``sample`` of them or those in ``names_file``,
    then report."""
    mutmut = [
        str(Path(sys.executable).with_name("mutmut")),
        "run",
        "--max-children",
        str(max_children),
    ]
    names = _read_names(names_file)
    if names is not None:
        _generate(max_children)
        mutmut += sorted(names)
    elif sample is not None:
        _generate(max_children)
        every = sorted(name for statuses in _load_results().values() for name in statuses)
        names = set(random.Random(seed).sample(every, min(sample, len(every))))
        SAMPLE_FILE.write_text("".join(f"{name}\n" for name in sorted(names)), encoding="utf-8")
        print(
            f"sample: {len(names)} of {len(every)} mutants (seed {seed}), listed in {SAMPLE_FILE}"
        )
        mutmut += sorted(names)
    env = {**os.environ, "LANPORTFOLJ_HYPOTHESIS_PROFILE": "mutation"}
    completed = subprocess.run(mutmut, env=env, check=False)
    print()
    report(names)
    return completed.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="run mutmut, then print the score per module")
    run_parser.add_argument(
        "--sample", type=int, default=None, help="test N mutants drawn at random"
    )
    run_parser.add_argument("--seed", type=int, default=20, help="seed of the sample (default 20)")
    run_parser.add_argument(
        "--names", type=Path, default=None, help="test the mutants listed in FILE"
    )
    run_parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    for name in ("report", "survivors"):
        sub = commands.add_parser(name)
        sub.add_argument("--names", type=Path, default=None, help="only the mutants listed in FILE")
    args = parser.parse_args(argv)
    if args.command == "run":
        return run(args.sample, args.seed, args.max_children, args.names)
    if args.command == "report":
        return report(_read_names(args.names))
    return survivors(_read_names(args.names))


if __name__ == "__main__":
    sys.exit(main())
