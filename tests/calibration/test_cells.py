"""The printed cells as targets: parsing, classes, bands, N patterns, cell targets."""

from __future__ import annotations

import numpy as np
import pytest

from sim_refugee.calibration.cells import (
    BAND_INTERIOR,
    CLASS_INTERIOR,
    N_PATTERNS,
    cell_interval,
    cell_target,
    check_cells,
    magnitude_class,
    n_matches,
    n_range,
    paper_cells,
    parse_pattern,
    star_band,
)


@pytest.mark.parametrize("printed, expected", [
    ("0.??***", (1, "0.xx", False, "***")),
    ("-0.??*", (-1, "0.xx", False, "*")),
    ("?.00***", (1, "x.xx", False, "***")),
    ("-?.0?***", (-1, "x.xx", False, "***")),
    ("0.0? ns", (1, "0.0x", False, "ns")),
    ("-0.0? ns", (-1, "0.0x", False, "ns")),
    ("0.00 ns", (1, "0.0x", True, "ns")),
    ("0.?0**", (1, "0.xx", False, "**")),
])
def test_parse_pattern(printed, expected):
    assert parse_pattern(printed) == expected


def test_cell_counts_match_the_printed_tables():
    cells = paper_cells()
    assert sum(c.table == "7" for c in cells) == 84  # 12 regressors x 7 items
    assert sum(c.table == "9" for c in cells) == 111  # non-blank Table 9 entries
    assert len({c.key for c in cells}) == 195
    # spot checks against targets.yaml: Table 7 food aid/anger prints ?.00***, Table 9
    # US-P(1) death prints 0.00 ns
    key = {c.key: c for c in cells}
    assert key["t7_anger:foodaid"].printed == "?.00***"
    assert key["t9_us_p1:death"].zero and key["t9_us_p1:death"].band == "ns"


def test_magnitude_class_edges_follow_two_decimal_rounding():
    b = np.array([0.0, 0.004, -0.094, 0.095, -0.5, 0.994, 0.995, 9.99, 10.0, np.nan])
    assert list(magnitude_class(b)) == ["0.0x", "0.0x", "0.0x", "0.xx", "0.xx", "0.xx",
                                        "x.xx", "x.xx", "", ""]


def test_star_band_edges_are_the_two_sided_normal_quantiles():
    z = np.array([0.0, -1.95, 1.97, -2.57, 2.58, 3.28, -3.30, np.nan])
    assert list(star_band(z)) == ["ns", "ns", "*", "*", "**", "**", "***", ""]


def test_check_cells_requires_sign_class_and_band_together():
    cells = [c for c in paper_cells() if c.key in ("t7_anxious:foodaid", "t7_anxious:female",
                                                   "t7_fear:female")]
    # foodaid/anxious 0.??***, female/anxious 0.??**, female/fear 0.0? ns
    b = np.array([0.5, 0.3, -0.03])
    z = np.array([5.0, 2.0, -0.5])
    out = check_cells(cells, b, z).set_index("term")
    got = dict(zip(out["column"] + ":" + out.index, out["hit"], strict=True))
    assert got["anxious:foodaid"]  # 0.5, z 5: 0.xx ***
    assert not got["anxious:female"]  # z 2.0 is *, printed **
    assert not got["fear:female"]  # negative, printed positive


def test_printed_zero_cells_ignore_the_sign():
    """A printed 0.00 is in class 0.0x (the issue's three classes) and has no sign."""
    cell = next(c for c in paper_cells() if c.key == "t9_us_p1:death")
    assert check_cells([cell], np.array([-0.003]), np.array([-0.1]))["hit"].item()
    assert check_cells([cell], np.array([0.02]), np.array([0.2]))["hit"].item()
    assert not check_cells([cell], np.array([-0.02]), np.array([-0.2]))["hit"].item()
    assert not check_cells([cell], np.array([0.12]), np.array([1.2]))["hit"].item()


@pytest.mark.parametrize("pattern, n, ok", [
    ("1,?0?", 1205, True), ("1,?0?", 1200, False), ("1,?0?", 1215, False),
    ("1,?00", 1200, True), ("1,?00", 1201, False),
    ("1,0??", 1055, True), ("1,0??", 1050, False),
    ("???", 947, True), ("???", 1047, False), ("???", 907, False),
    ("????", 1247, True), ("1,??0", 1250, True), ("1,??0", 1205, False),
])
def test_n_patterns(pattern, n, ok):
    assert n_matches(n, pattern) is ok


def test_n_range_counts():
    assert len(n_range("1,?00")) == 9  # 1,100 ... 1,900
    assert n_range("???")[0] == 111 and n_range("???")[-1] == 999
    assert set(N_PATTERNS) >= {"t7_anxious", "t9_2spls_job", "t9_sk_p4"}


@pytest.mark.parametrize("se", [0.02, 0.05, 0.08, 0.12, 0.2, 0.35, 0.5])
def test_cell_targets_sit_inside_band_and_class_when_both_can_hold(se):
    for cell in paper_cells():
        t = cell_target(cell, se)
        if cell.zero:
            assert t == 0.0
            continue
        lo_b, hi_b = CLASS_INTERIOR[cell.klass]
        lo_z, hi_z = BAND_INTERIOR[cell.band]
        feasible = max(lo_b, lo_z * se) <= min(hi_b, hi_z * se)
        assert np.sign(t) == cell.sign
        # the class always wins
        assert lo_b - 1e-12 <= abs(t) <= hi_b + 1e-12
        if feasible:
            assert lo_z - 1e-9 <= abs(t) / se <= hi_z + 1e-9
            lo, hi = cell_interval(cell, se)
            assert lo - 1e-12 <= t <= hi + 1e-12
            # and the target really prints as the cell
            assert check_cells([cell], np.array([t]), np.array([t / se]))["hit"].item()
