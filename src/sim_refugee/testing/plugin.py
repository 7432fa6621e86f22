"""pytest plugin (entry point ``pytest11``): keyed per-test seeds and a replication scale.

Fixtures:

* ``keyed_seed``: a ``SeedSequence`` keyed by the test's node id,
  ``seed_sequence(root, "pytest", nodeid)``; pass it as ``recovery(..., seed=keyed_seed)``.
* ``keyed_rng``: a Generator on the same key (for tests that draw directly).
* ``recovery_reps``: ``recovery_reps(400)`` is 400 times the ``--recovery-reps`` scale
  (1 by default), rounded up; ``recovery_reps.scale`` is the scale itself.

Options: ``--recovery-reps SCALE`` (a slower, stricter CI lane: more replications,
smaller MCSEs, the same seeds for the first ones) and ``--recovery-seed ROOT`` (the root
of the keyed seeds, 0 by default; another root draws fresh data in every test). Both are
optional: without them pytest runs as usual. Disable the plugin with ``-p no:sim_refugee``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim_refugee.seeds import rng_for, seed_sequence

TEST_KEY = "pytest"


class RepsScale:
    """Multiplies a test's replication count by the ``--recovery-reps`` scale."""

    def __init__(self, scale: float) -> None:
        self.scale = float(scale)

    def __call__(self, reps: int) -> int:
        """``reps`` x scale, rounded up (at least 1)."""
        return max(1, math.ceil(reps * self.scale - 1e-9))

    def __repr__(self) -> str:
        return f"RepsScale({self.scale:g})"


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register --recovery-reps and --recovery-seed."""
    group = parser.getgroup("sim_refugee", "estimator recovery (sim_refugee.testing)")
    group.addoption("--recovery-reps", type=float, default=1.0, metavar="SCALE",
                    help="multiply the replications of recovery tests by SCALE (default 1)")
    group.addoption("--recovery-seed", type=int, default=0, metavar="ROOT",
                    help="root seed of the keyed_seed/keyed_rng fixtures (default 0)")


def pytest_configure(config: pytest.Config) -> None:
    """Reject a scale or root that cannot work before any test runs."""
    scale = config.getoption("recovery_reps")
    if not (math.isfinite(scale) and scale > 0):
        raise pytest.UsageError(f"--recovery-reps must be a positive number, got {scale}")
    if config.getoption("recovery_seed") < 0:
        raise pytest.UsageError("--recovery-seed must be a non-negative integer")


def pytest_report_header(config: pytest.Config) -> str | None:
    """Name a non-default scale or root in the header, so a failing run can be repeated."""
    scale, root = config.getoption("recovery_reps"), config.getoption("recovery_seed")
    if scale == 1.0 and root == 0:
        return None
    return f"sim_refugee recovery: --recovery-reps {scale:g} --recovery-seed {root}"


@pytest.fixture
def keyed_seed(request: pytest.FixtureRequest) -> np.random.SeedSequence:
    """SeedSequence keyed by (root, "pytest", the test's node id)."""
    return seed_sequence(request.config.getoption("recovery_seed"), TEST_KEY,
                         request.node.nodeid)


@pytest.fixture
def keyed_rng(request: pytest.FixtureRequest) -> np.random.Generator:
    """Generator keyed by (root, "pytest", the test's node id)."""
    return rng_for(request.config.getoption("recovery_seed"), TEST_KEY, request.node.nodeid)


@pytest.fixture(scope="session")
def recovery_reps(pytestconfig: pytest.Config) -> RepsScale:
    """Scales replication counts by --recovery-reps."""
    return RepsScale(pytestconfig.getoption("recovery_reps"))
