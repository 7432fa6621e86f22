"""calibration.ceiling: the common-coefficient count and the truth's own score, on hand-made
cells whose answers follow from the presumed legend (z 1.960 / 2.576 / 3.291) and the
print classes (|b| 0.095 / 0.995)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim_refugee.calibration.ceiling import (
    attainable_intervals,
    common_ceiling,
    hit_interval,
    pattern_hits,
    robust_hits,
    sample_cells,
    truth_scores,
)
from sim_refugee.calibration.cells import Cell, check_cells, paper_cells, parse_pattern


def _cell(model: str, term: str, printed: str, table: str = "9") -> Cell:
    s, k, z, b = parse_pattern(printed)
    return Cell(table, model, term, model, printed, s, k, z, b)


def test_pattern_hits_is_the_checks_rule():
    cells = paper_cells()
    rng = np.random.default_rng(7)
    for _ in range(20):
        b = rng.normal(0, 0.6, len(cells))
        z = b / rng.uniform(0.05, 0.4, len(cells))
        np.testing.assert_array_equal(pattern_hits(cells, b, z),
                                      check_cells(cells, b, z)["hit"].to_numpy())


def test_pattern_hits_on_band_and_class_edges():
    c = [_cell("t9_us_p1", "x", "0.??**")]
    assert pattern_hits(c, np.array([0.26]), np.array([2.6]))[0]
    assert not pattern_hits(c, np.array([0.26]), np.array([2.55]))[0]  # * below 2.576
    assert not pattern_hits(c, np.array([0.33]), np.array([3.3]))[0]   # *** from 3.291
    assert not pattern_hits(c, np.array([-0.26]), np.array([-2.6]))[0]  # sign
    assert not pattern_hits(c, np.array([0.09]), np.array([2.6]))[0]   # prints 0.09: 0.0x


def test_robust_hits_margin():
    c = [_cell("t9_us_p1", "x", "0.??**")]
    b, se = np.array([0.27]), np.array([0.1])  # z 2.7: ** is [2.576, 3.291)
    assert robust_hits(c, b, se, 0.1)[0]       # 2.6 and 2.8 are both **
    assert not robust_hits(c, b, se, 0.2)[0]   # 2.5 is *


def test_common_ceiling_windows():
    cells = [
        # ** at SE 0.1 needs b in [0.2576, 0.3291); *** at SE 0.2 needs b >= 0.658: never both
        _cell("t9_us_p1", "x", "0.??**"), _cell("t9_us_p2", "x", "0.??***"),
        # ** at SE 0.1 and *** at SE 0.09 (b >= 0.2961): both for b in [0.2961, 0.3291)
        _cell("t9_sk_p1", "x", "0.??**"), _cell("t9_sk_p2", "x", "0.??***"),
        _cell("t7_fear", "x", "0.??**", table="7"),  # not a destination cell
    ]
    se = np.array([0.1, 0.2, 0.1, 0.09, 0.1])
    t = common_ceiling(cells, se).set_index(["destination", "term"])
    assert t.loc[("us", "x"), "best"] == 1
    assert t.loc[("sk", "x"), "best"] == 2
    assert t.loc[("sk", "x"), "b_lo"] == pytest.approx(0.2961, abs=1e-3)
    assert t.loc[("sk", "x"), "b_hi"] == pytest.approx(0.3291, abs=1e-3)
    assert t["cells"].sum() == 4
    # a 0.2 z margin narrows the sk window to [0.3141, 0.3091): empty, one cell left
    assert common_ceiling(cells, se, 0.2).set_index(["destination", "term"]).loc[
        ("sk", "x"), "best"] == 1


def test_sample_cells_print_their_own_estimates():
    cells = paper_cells()
    rng = np.random.default_rng(3)
    b = rng.normal(0, 0.5, len(cells))
    b[:5] = [0.0, 0.003, -0.002, 0.5, np.nan]
    z = b / rng.uniform(0.05, 0.4, len(cells))
    pat = sample_cells(cells, b, z)
    hit = pattern_hits(pat, b, z)
    assert hit[np.isfinite(b)].all() and not hit[4]
    assert pat[1].zero and pat[1].sign == 1 and pat[2].sign == 1  # 0.00 prints unsigned
    assert not pattern_hits(pat, -b, -z)[3]


def test_truth_scores_leave_the_playing_sample_out():
    cells = [_cell("t7_fear", "x", "0.??***", table="7")]
    # z = 3.0, 3.0, 4.6: the mean of all three (3.53, ***) would hit sample 2's ***, but
    # the mean of the other two (3.0, **) does not; samples 0 and 1 (**) see 3.8 (***)
    s = np.full((3, 1), 0.1)
    b = np.array([[0.30], [0.30], [0.46]])
    t = truth_scores(cells, b, s, np.array([0.1]))
    assert t["hits"].tolist() == [0, 0, 0]
    b2 = np.array([[0.40], [0.42], [0.44]])  # all *** in class 0.xx: every sample agrees
    assert truth_scores(cells, b2, s, np.array([0.1]))["hits"].tolist() == [1, 1, 1]


def test_truth_scores_blocks_and_destination_count():
    cells = [_cell("t9_us_p1", "x", "0.??**"), _cell("t9_us_p2", "x", "0.??**"),
             _cell("t9_2spls_job", "y", "0.??**"), _cell("t7_fear", "y", "0.??**", table="7")]
    s = np.full((4, 4), 0.1)
    b = np.array([[0.30, 0.30, 0.30, 0.30], [0.31, 0.29, 0.30, 0.30],
                  [0.28, 0.40, 0.30, 0.30], [0.29, 0.30, 0.30, 0.30]])
    t = truth_scores(cells, b, s, np.full(4, 0.1), margins=(0.0,))
    assert (t["hits_t7"] == 1).all() and (t["hits_2spls"] == 1).all()
    # sample 2 prints the P(2) cell *** (z 4.0) and P(1) **: one b at the world's SE
    # (0.1) cannot do both; the others print ** twice, which one b can
    assert t["dest_ceiling_0"].tolist() == [2, 2, 1, 2]
    assert (t["hits"] == t[["hits_t7", "hits_2spls", "hits_dest"]].sum(axis=1)).all()


def test_destination_ceiling_script(tmp_path, capsys, monkeypatch):
    path = Path(__file__).resolve().parents[2] / "analysis" / "destination_ceiling.py"
    spec = importlib.util.spec_from_file_location("destination_ceiling", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    cells = paper_cells()
    table = pd.DataFrame({"model": [c.model for c in cells], "term": [c.term for c in cells],
                          "se_n": 0.1, "hit": False})
    t = mod.ceiling_table(table)
    assert t["cells"].sum() == 98 and (t["hit_now"] == 0).all()
    assert (t["best"] <= t["cells"]).all() and (t["best"] >= 1).all()
    csv = tmp_path / "cells.csv"
    table.to_csv(csv, index=False)
    monkeypatch.setattr("sys.argv", ["destination_ceiling.py", str(csv), "--margin", "0"])
    mod.main()
    assert "of 98 with one b per group" in capsys.readouterr().out


def test_hit_interval():
    c = _cell("t9_us_p1", "x", "0.??**")
    lo, hi = hit_interval(c, 0.1, 0.0)
    assert lo == pytest.approx(0.2576, abs=6e-4) and hi == pytest.approx(0.3291, abs=6e-4)
    lo, hi = hit_interval(c, 0.1, 0.2)
    assert lo == pytest.approx(0.2776, abs=6e-4) and hi == pytest.approx(0.3091, abs=6e-4)
    assert np.isnan(hit_interval(c, 0.5, 0.0)[0])  # ** needs b >= 1.29: class x.xx


def test_attainable_intervals_drop_what_one_b_cannot_reach():
    cells = [_cell("t9_us_p1", "x", "0.??**"), _cell("t9_us_p2", "x", "0.??***"),
             _cell("t9_us_p1", "y", "0.??**"), _cell("t9_us_p2", "y", "0.??**")]
    se = np.array([0.1, 0.2, 0.1, 0.1])
    base = np.array([[0.0, 1.0]] * 4)
    near_low = attainable_intervals(cells, se, base, ("x",), ref=np.array([0.3, 0.3, 0, 0]))
    # x: one b hits one of the two; near 0.3 the ** cell is kept, with the widest margin
    # (0.3 z: [0.2876, 0.2991]) and the *** one gives up its pull
    assert near_low[0] == pytest.approx([0.2876, 0.2991], abs=6e-4)
    assert near_low[1].tolist() == [-np.inf, np.inf]
    assert near_low[2:].tolist() == base[2:].tolist()  # y is not among the terms
    near_high = attainable_intervals(cells, se, base, ("x",), ref=np.array([0.8, 0.8, 0, 0]))
    assert near_high[0].tolist() == [-np.inf, np.inf]
    assert near_high[1][0] == pytest.approx(0.3291 * 2 + 0.3 * 0.2, abs=1e-3)  # z >= 3.59
    both = attainable_intervals(cells, se, base, ("y",))
    assert both[2] == pytest.approx([0.2876, 0.2991], abs=6e-4)
    assert both[3] == pytest.approx([0.2876, 0.2991], abs=6e-4)


def test_truth_score_script_reuses_only_matching_arrays(tmp_path, monkeypatch, capsys):
    """The per-sample arrays are reused only for the seed, size and reps that made them;
    bad input exits 2 naming the option."""
    path = Path(__file__).resolve().parents[2] / "analysis" / "truth_score.py"
    spec = importlib.util.spec_from_file_location("truth_score", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    n = len(paper_cells())
    rng = np.random.default_rng(5)
    b = rng.normal(0.3, 0.1, (6, n))
    s = np.full((6, n), 0.1)
    np.savez_compressed(tmp_path / "arrays.npz", b=b, s=s, key=np.array([4, 5000, 6]))
    calls = []
    monkeypatch.setattr(mod, "build_population", lambda *a, **k: calls.append(a) or None)
    monkeypatch.setattr(mod, "sample_arrays", lambda *a, **k: (b + 1.0, s, None))
    argv = ["truth_score.py", "--seed", "4", "--size", "5000", "--reps", "6", "--out",
            str(tmp_path)]
    monkeypatch.setattr("sys.argv", argv)
    assert mod.main() == 0 and calls == []  # reused
    assert "6 paper-design samples" in capsys.readouterr().out
    monkeypatch.setattr("sys.argv", [*argv[:2], "5", *argv[3:]])
    assert mod.main() == 0 and len(calls) == 1  # another seed: recomputed, and stored
    with np.load(tmp_path / "arrays.npz") as f:
        assert f["key"].tolist() == [5, 5000, 6] and np.allclose(f["b"], b + 1.0)
    monkeypatch.setattr("sys.argv", [*argv[:6], "0", *argv[7:]])
    assert mod.main() == 2
    assert "--reps" in capsys.readouterr().err
