"""How far a run searches beyond the deterministic phases: dev, ci, nightly.

A module of its own, with no imports of ours: the pytest plugin declares `--contract-profile` in every
pytest session, and must not load the engine to do it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    """How far a run searches beyond the deterministic phases."""

    name: str
    generated: int  # generated bodies at most
    sequences: int  # stateful sequences
    steps: int  # steps per sequence at most
    live_shrink_requests: int  # extra requests a live run may spend shrinking one failure (mocks: no limit)


PROFILES = {
    "dev": Profile("dev", generated=40, sequences=4, steps=5, live_shrink_requests=20),
    "ci": Profile("ci", generated=200, sequences=10, steps=8, live_shrink_requests=40),
    "nightly": Profile("nightly", generated=2000, sequences=50, steps=10, live_shrink_requests=100),
}
