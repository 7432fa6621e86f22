"""Shared populations for the world tests (built once per session: ~2-4 s each)."""

from __future__ import annotations

import pytest

from sim_refugee.seeds import seed_sequence
from sim_refugee.world import WorldConfig, build_population_with_calibration

#: big enough that a share's sampling noise in the population (~0.002) is well inside the
#: 1-point calibration claim, small enough to build in a few seconds
SIZE = 60_000


@pytest.fixture(scope="session")
def default_world():
    """(population, calibration result) of the default world, seed 11."""
    return build_population_with_calibration(WorldConfig(size=SIZE), seed_sequence(11, "population", 0))


@pytest.fixture(scope="session")
def default_pop(default_world):
    return default_world[0]
