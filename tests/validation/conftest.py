"""Shared inputs for the bad-input tests: a small population file and config texts."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

#: A paper-suite experiment that validates (it is never run by these tests).
SUITE = """
[experiment]
name = "v"
root_seed = 1
replications = 2

[world]
size = 2000

[unit]
include_variants = false

[[designs]]
name = "paper"

[[designs]]
name = "rds"

[sample]
n = 100
"""

#: A toy-unit experiment that runs in about a second.
TOY = """
[experiment]
name = "toy"
unit = "toy"
root_seed = 1
replications = 2
chunk_size = 2

[world]
size = 200

[[designs]]
name = "srs"

[sample]
n = 20
"""


def small_population() -> pd.DataFrame:
    """A 2,000-person calibrated population (built once per process)."""
    global _POP
    if _POP is None:
        from sim_refugee.world import WorldConfig, build_population

        _POP = build_population(WorldConfig(size=2000), 5)
    return _POP


_POP: pd.DataFrame | None = None


@pytest.fixture(scope="module")
def pop_file(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pop") / "pop.parquet"
    small_population().to_parquet(out, index=False)
    return out


def listing(folder: Path) -> set[str]:
    """Every path under ``folder`` (relative), to check that nothing was written."""
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}
