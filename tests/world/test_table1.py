"""Table 1 (time in China by gender): the paper design's expected sample falls inside the
ranges decoded from the printed digit patterns and the prose
(shared/paper/targets_detailed.yaml, tables.table_1), computed exactly from the expected
sample weights (no Monte Carlo error)."""

from __future__ import annotations

import numpy as np
import pytest

from sim_refugee.targets import resolve_assumptions
from sim_refugee.world import WorldConfig, build_population
from sim_refugee.world.calibrate import sample_weights

SPELLS = ("<6m", "6-12m", "1-2y", "2-3y", ">3y")
# (spell, group) -> decoded percent range (targets_detailed.yaml: pattern ranges, the
# 'decoded' fields, and the count arithmetic at about 646 men and 700 women)
RANGES = {
    ("<6m", "male"): (1.1, 9.9), ("<6m", "female"): (1.0, 9.0), ("<6m", "total"): (1.1, 9.9),
    ("6-12m", "male"): (11.2, 15.3),  # pct 11.2-18.9, and at most 99 of about 646 men
    ("6-12m", "female"): (10.1, 10.9), ("6-12m", "total"): (11.1, 14.6),
    (">3y", "male"): (22.5, 23.4), (">3y", "female"): (40.1, 40.9), (">3y", "total"): (31.5, 32.5),
}


@pytest.fixture(scope="module")
def table1():
    pop = build_population(WorldConfig(), 0)
    w = sample_weights(pop, WorldConfig().selection, resolve_assumptions(), 1346)
    f = pop["female"].to_numpy() == 1
    spell = pop["china_spell"].to_numpy()
    out = {}
    for g, m in (("male", ~f), ("female", f), ("total", np.ones(len(f), bool))):
        for s in SPELLS:
            out[(s, g)] = 100.0 * float(np.sum(w[m & (spell == s)]) / np.sum(w[m]))
    return out


def test_table1_cells_inside_decoded_ranges(table1):
    for key, (lo, hi) in RANGES.items():
        assert lo <= table1[key] <= hi, (key, table1[key], (lo, hi))
    # rows 1-2 and 2-3 years together: 100 - rows 1, 2 and 32.0 (about 44.5-55.1)
    both = table1[("1-2y", "total")] + table1[("2-3y", "total")]
    assert 44.5 <= both <= 55.1
    for g in ("male", "female", "total"):
        assert abs(sum(table1[(s, g)] for s in SPELLS) - 100.0) < 1e-9
