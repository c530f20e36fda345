"""Where the shipped data folders are: the repository in a checkout, package resources in a wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_REPO = _PACKAGE.parent.parent


def _resource(name: str) -> Path:
    in_repo = _REPO / name
    if in_repo.is_dir():
        return in_repo
    return _PACKAGE / "_resources" / name


def templates_dir() -> Path:
    return _resource("templates")


def data_dir() -> Path:
    return _resource("data")


def demo_dir() -> Path:
    return data_dir() / "demo"


def library_dir() -> Path:
    return _resource("indicator_library")
