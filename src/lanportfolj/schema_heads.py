"""The newest migration revision(s), read from the scripts' source without alembic or SQLAlchemy.

Every command checks that the database is migrated before it runs; importing alembic (or even SQLAlchemy)
for that cost a listing like ``bonds list`` most of its start-up (issue 15).
"""

from __future__ import annotations

import ast
import re
from importlib import resources
from pathlib import Path

# ``revision: str = "0015"`` / ``down_revision: str | None = "0013"`` at the start of a line
_ASSIGNMENT = re.compile(r"^(revision|down_revision)\b[^=\n]*=(.*)$", re.MULTILINE)


def migrations_dir() -> Path:
    """The folder of the package's migration scripts."""
    return Path(str(resources.files("lanportfolj") / "migrations" / "versions"))


def _revision_names(value: ast.expr | None) -> tuple[str, ...]:
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return (value.value,)
    if isinstance(value, ast.Tuple | ast.List):
        return tuple(n for item in value.elts for n in _revision_names(item))
    return ()


def _revisions_of(source: str, filename: str) -> dict[str, tuple[str, ...]]:
    """``revision`` and ``down_revision`` of one script. The two lines are found by a pattern and read as
    literals (parsing every script whole cost a listing ~30 ms); a form that is not one line (a tuple over
    several lines) is read from the parsed module instead."""
    found: dict[str, tuple[str, ...]] = {}
    for match in _ASSIGNMENT.finditer(source):
        try:
            value = ast.parse(match.group(2).strip(), mode="eval").body
        except SyntaxError:
            return _revisions_parsed(source, filename)
        found.setdefault(match.group(1), _revision_names(value))
    return found


def _revisions_parsed(source: str, filename: str) -> dict[str, tuple[str, ...]]:
    tree = ast.parse(source, filename=filename)
    found: dict[str, tuple[str, ...]] = {}
    for node in tree.body:
        target, value = None, None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign):
            target, value = node.target, node.value
        if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
            found[target.id] = _revision_names(value)
    return found


def migration_heads(folder: Path | None = None) -> set[str]:
    """The newest revision(s) of the migration scripts, read from their ``revision`` and
    ``down_revision`` lines without importing alembic or the scripts (the same heads alembic finds)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in sorted((folder or migrations_dir()).glob("*.py")):
        found = _revisions_of(script.read_text(encoding="utf-8"), str(script))
        if found.get("revision"):
            revisions.update(found["revision"])
            parents.update(found.get("down_revision", ()))
    return revisions - parents
