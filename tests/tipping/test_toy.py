"""`sim-refugee tipping` on the toy unit, whose tipping points are known analytically
(tests/tipping/analytic.py: the exact values on the realized population, besides the
textbook 1.96 / (sd sqrt(n))).

Tolerances. Every test asserts that the exact value lies in the CI the command reports
and, where the precision allows, within 10% of it. The CI is the Monte Carlo error of
the answer; a fixed value lies outside a 95% CI in 5% of seeds by design, so the tests
other than the shipped config's own run ask for a z = 3 interval (level 0.9973), the
project's convention for Monte Carlo-aware assertions (docs/TESTING.md).
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim_refugee.cli import main
from sim_refugee.engine.config import BackendSection
from sim_refugee.io import read_toml
from sim_refugee.tipping.config import validate_tipping
from sim_refugee.tipping.output import probes_frame, results_frame
from sim_refugee.tipping.run import run_tipping

from .analytic import miss_share, population_y, reject_share, root, sample_moments

TOY = Path(__file__).resolve().parents[2] / "experiments" / "tipping_toy.toml"
SEED = 20080401  # the toy config's root seed
Z3 = 0.9973  # two-sided level of +/- 3 standard errors
REQUIRED = ("target", "parameter", "value", "ci_low", "ci_high", "replications")


@pytest.fixture(scope="module")
def y0() -> np.ndarray:
    """y of the toy config's population (mean_y 0, sd_y 1, size 20,000)."""
    return population_y(SEED)


def toy_raw(**solver) -> dict:
    raw = read_toml(TOY)
    raw["tipping"]["solver"].update(solver)
    return raw


def run_frame(raw: dict, backend: str = "serial") -> tuple[pd.DataFrame, object]:
    run = run_tipping(validate_tipping(raw), BackendSection(kind=backend, workers=2))
    return results_frame(run), run


def test_toy_config_recovers_the_analytic_strength(tmp_path: Path, y0: np.ndarray) -> None:
    """The shipped config through the command line, as the docs show it (95% CI)."""
    out = tmp_path / "toy"
    assert main(["tipping", str(TOY), "--out", str(out), "--quiet"]) == 0
    f = pd.read_csv(out / "tipping.csv")
    assert set(REQUIRED) <= set(f.columns) and len(f) == 1
    r = f.iloc[0]
    exact = root(reject_share, y0, 100, 0.5)  # 0.1995 on this population
    textbook = 1.959964 / math.sqrt(100)
    assert r["status"] == "ok" and r["target"] == "term:mean:y"
    assert r["parameter"] == "designs.biased.strength"
    assert r["ci_low"] <= exact <= r["ci_high"], (r["ci_low"], exact, r["ci_high"])
    assert abs(r["value"] - exact) <= 0.1 * exact
    assert abs(r["value"] - textbook) <= 0.1 * textbook
    assert (r["ci_high"] - r["ci_low"]) / 2 <= 0.005  # the config's tolerance
    assert r["replications"] <= 8000 and r["confirm_replications"] >= 400
    assert abs(r["share_at_value"] - 0.5) <= 3 * r["share_mcse"]
    # the other outputs: probes add up to the replications; the manifest counts them
    probes = pd.read_csv(out / "probes.csv")
    assert probes["replications"].sum() == r["replications"]
    man = json.loads((out / "tipping.json").read_text())
    assert man["replications_computed"] == r["replications"]  # one target: nothing shared
    assert man["root_seed"] == SEED and man["unit"] == "toy"
    png = (out / "tipping.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_other_n_and_the_coverage_target(y0: np.ndarray) -> None:
    """n = 400: the strength halves (1.96 / 20 ~ 0.098; 0.1021 exactly here); and the
    coverage of mean:y falls below 0.9 where P(|ybar - Ybar| > 1.96 se) = 0.1."""
    raw = toy_raw(ci_level=Z3, tolerance=0.006)
    raw["sample"]["n"] = 400
    raw["tipping"]["targets"] = [{"term": "mean:y"}, {"coverage": "mean:y", "level": 0.9}]
    f, run = run_frame(raw)
    term, cov = f.iloc[0], f.iloc[1]
    exact = root(reject_share, y0, 400, 0.5)
    assert term["status"] == "ok"
    assert term["ci_low"] <= exact <= term["ci_high"], (term["ci_low"], exact, term["ci_high"])
    assert abs(term["value"] - exact) <= 0.1 * exact
    assert abs(term["value"] - 1.959964 / 20) <= 0.1 * 1.959964 / 20
    exact_cov = root(miss_share, y0, 400, 0.1, lo=0.0, hi=0.3)  # ~0.036
    assert cov["target"] == "coverage:mean:y" and cov["threshold"] == 0.9
    assert cov["status"] == "ok"
    assert cov["ci_low"] <= exact_cov <= cov["ci_high"], (cov["ci_low"], exact_cov, cov["ci_high"])
    # shared replications: fewer computed than the two searches used
    assert run.computed < f["replications"].sum()


def test_map_mode_draws_the_boundary(y0: np.ndarray, tmp_path: Path) -> None:
    """2-D: mean_y x strength. The boundary is sqrt(n) (mean_y + strength sd^2) / sd =
    1.96, i.e. strength ~ 0.196 - mean_y; exactly, y = mean_y + e on the same e."""
    raw = toy_raw(ci_level=Z3, tolerance=0.012, confirm_replications=200)
    raw["tipping"]["map"] = {"parameter": "world.mean_y", "values": [-0.1, -0.05, 0.0]}
    f, run = run_frame(raw)
    assert list(f["map_parameter"].unique()) == ["world.mean_y"]
    assert list(f["map_value"]) == [-0.1, -0.05, 0.0]
    for _, r in f.iterrows():
        exact = root(reject_share, y0 + r["map_value"], 100, 0.5)
        approx = 1.959964 / 10 - r["map_value"]
        assert r["status"] == "ok"
        assert r["ci_low"] <= exact <= r["ci_high"], (r["map_value"], exact, r["ci_low"], r["ci_high"])
        assert abs(r["value"] - exact) <= 0.1 * exact
        assert abs(r["value"] - approx) <= 0.1 * approx
    # the boundary falls with mean_y (about one for one)
    assert f["value"].is_monotonic_decreasing
    from sim_refugee.tipping.output import write_outputs

    paths = write_outputs(run, tmp_path / "map")
    assert paths["tipping.png"].stat().st_size > 10_000


def test_ray_through_a_world_and_a_design_parameter(y0: np.ndarray) -> None:
    """A ray moving world.mean_y and designs.biased.strength together (0.5 t each): the
    sample mean is ~ mean_y + strength = t, so the answer at n = 400 is t ~ 0.098."""
    raw = toy_raw(ci_level=Z3, tolerance=0.01, confirm_replications=200)
    raw["sample"]["n"] = 400
    raw["tipping"]["direction"] = {
        "parameters": ["world.mean_y", "designs.biased.strength"], "origin": [0.0, 0.0],
        "step": [0.5, 0.5], "name": "shift_and_select", "lower": 0.0, "upper": 0.6}
    f, _ = run_frame(raw)
    r = f.iloc[0]

    def share(y, t, n):
        return reject_share(y + 0.5 * t, 0.5 * t, n)
    exact = root(share, y0, 400, 0.5)
    assert r["parameter"] == "ray:shift_and_select" and r["status"] == "ok"
    assert r["ci_low"] <= exact <= r["ci_high"], (r["ci_low"], exact, r["ci_high"])
    assert abs(r["value"] - exact) <= 0.1 * exact
    assert r["at:world.mean_y"] == pytest.approx(0.5 * r["value"])
    assert r["at:designs.biased.strength"] == pytest.approx(0.5 * r["value"])


def test_claim_target_and_its_truth_in_the_population(y0: np.ndarray) -> None:
    """The toy claim y_mean_positive (sample mean > 0) is false in this population
    (mean -0.0028) and holds in half the samples where the sampled mean is 0."""
    raw = toy_raw(ci_level=Z3, tolerance=0.01, confirm_replications=200)
    raw["sample"]["n"] = 400
    raw["tipping"]["targets"] = [{"claim": "y_mean_positive"}, {"term": "mean:y"}]
    raw["tipping"]["direction"].update(lower=-0.2, upper=0.4)
    f, _ = run_frame(raw)
    r = f.iloc[0]
    from scipy import optimize

    exact = optimize.brentq(lambda s: sample_moments(y0, s, 400)[0], -0.2, 0.2)
    assert y0.mean() < 0 and r["truth"] == 0.0
    assert r["target"] == "claim:y_mean_positive" and r["status"] == "ok"
    assert r["ci_low"] <= exact <= r["ci_high"], (r["ci_low"], exact, r["ci_high"])
    assert math.isnan(f.iloc[1]["truth"])  # the toy census has no p-value: not evaluable


def test_range_ends_are_reported_not_invented(tmp_path: Path) -> None:
    raw = toy_raw()
    raw["tipping"]["direction"].update(lower=0.5, upper=0.8)
    low, _ = run_frame(raw)
    r = low.iloc[0]
    assert r["status"] == "tipped_at_lower" and r["value"] == 0.5 and r["ci_high"] == 0.5
    assert math.isnan(r["ci_low"]) and r["replications"] == 40  # one batch per end
    raw["tipping"]["direction"].update(lower=-0.5, upper=0.0)
    never, _ = run_frame(raw)
    r = never.iloc[0]
    assert r["status"] == "never_tips" and math.isnan(r["value"]) and r["ci_low"] == 0.0
    assert math.isnan(r["ci_high"])


def test_identical_whatever_the_backend_chunks_or_other_targets() -> None:
    """Serial with chunks of 50 and one target == loky (2 workers) with chunks of 7 and a
    second target: every replication is keyed by (root, 'tipping', k, r)."""
    raw = toy_raw(tolerance=0.02, max_replications=600, confirm_replications=60)
    raw["sample"]["n"] = 400
    f1, run1 = run_frame(copy.deepcopy(raw))
    raw2 = copy.deepcopy(raw)
    raw2["experiment"]["chunk_size"] = 7
    raw2["tipping"]["targets"].append({"coverage": "mean:y"})
    f2, run2 = run_frame(raw2, backend="loky")
    pd.testing.assert_frame_equal(f1.iloc[[0]], f2.iloc[[0]])
    p1, p2 = probes_frame(run1), probes_frame(run2)
    pd.testing.assert_frame_equal(p1, p2[p2["target"] == "term:mean:y"].reset_index(drop=True))
    assert len(p1) > 3  # a real search, not just the ends
