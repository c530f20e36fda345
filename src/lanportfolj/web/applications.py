"""Application pages (placeholder while being written)."""

ROUTES: list[object] = []
