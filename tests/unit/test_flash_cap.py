"""A flash message echoes what was sent, and travels in a cookie: it is cut short, and few wait."""

from __future__ import annotations

from types import SimpleNamespace

from lanportfolj.web.auth import FLASH_KEY, FLASH_MAX_CHARS, FLASH_MAX_MESSAGES, flash


def test_a_huge_message_is_cut_and_only_the_last_few_wait() -> None:
    request = SimpleNamespace(session={})
    flash(request, "x" * 100_000, "error")  # type: ignore[arg-type]
    [only] = request.session[FLASH_KEY]
    assert only == {"message": "x" * (FLASH_MAX_CHARS - 1) + "…", "category": "error"}
    for n in range(10):
        flash(request, f"message {n}")  # type: ignore[arg-type]
    assert [m["message"] for m in request.session[FLASH_KEY]] == [
        f"message {n}" for n in range(10 - FLASH_MAX_MESSAGES, 10)
    ]
