"""Settings shared by every test: Hypothesis runs the same examples on every machine (the `ci` profile)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# Derandomized, so a run never fails on one machine and passes on the next; no deadline, since two shared cores
# make timings meaningless; few enough examples that the unit suite stays fast. HYPOTHESIS_PROFILE=dev explores more.
settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=40,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
