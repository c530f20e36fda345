"""Hypothesis profiles for the unit tests; ``LANPORTFOLJ_HYPOTHESIS_PROFILE`` picks one (``make mutate`` sets
``mutation``)."""

from __future__ import annotations

import os

from hypothesis import Phase, settings

# A mutant needs only to be caught, not explained: shrinking the failing example would spend most of
# a mutant's time budget. Derandomised, so a mutant killed once is killed on every run, and without
# the example database, so one mutant's failures are not replayed against the next.
settings.register_profile(
    "mutation",
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    derandomize=True,
    database=None,
    deadline=None,
)
settings.load_profile(os.environ.get("LANPORTFOLJ_HYPOTHESIS_PROFILE", "default"))
