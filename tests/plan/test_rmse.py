"""RMSE targets of `sim-refugee plan` (search/rmse.py, plan/run.py).

Known answer on the toy unit (experiments/plan_toy.toml: 20,000 people, y ~ N(0.2, 1),
design srs without replacement). The sample mean's error has variance
(1 - n/N) S^2 / n and no bias, so RMSE(n) <= max at n = S^2 / (max^2 + S^2 / N): about
sd^2 / max^2 = 400 for max = 0.05 (392 with the finite population correction; the test
computes S^2 of the realized population). The toy's ``biased`` design (inclusion odds
exp(0.5 y)) shifts the mean by about 0.5 sd^2, so RMSE <= 0.05 is unreachable.
Engine-free tests drive ``RmseSearch`` with a synthetic oracle whose answer is exact.
Tolerances: the project's 3-standard-error convention (docs/TESTING.md).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from sim_refugee.diagnosis.measures import TERM_MEASURES, term_measures
from sim_refugee.engine.unit_toy import UNIT
from sim_refugee.errors import UserInputError
from sim_refugee.io import read_toml
from sim_refugee.plan.config import validate_plan
from sim_refugee.plan.output import plan_frame, probes_frame, report_md
from sim_refugee.plan.run import run_plan
from sim_refugee.search.rmse import UNREACHABLE, RmseSearch, error_measures
from sim_refugee.search.rootfind import (
    NEVER_TIPS,
    OK,
    TIPPED_AT_LOWER,
    IntegerSpace,
    SolverSettings,
    run_searches,
)
from sim_refugee.seeds import rng_for, seed_sequence
from sim_refugee.tipping.config import validate_tipping

TOY = Path(__file__).resolve().parents[2] / "experiments" / "plan_toy.toml"
TIPPING_TOY = Path(__file__).resolve().parents[2] / "experiments" / "tipping_toy.toml"
SEED = 20080401
Z = float(stats.norm.isf(0.025))
SIZE = 20000


def population_s2(size: int = SIZE) -> float:
    """S^2 of y in the population the engine builds for the toy world."""
    w = UNIT.validate_world({"size": size, "mean_y": 0.2, "effect": 0.0, "sd_y": 1.0})
    y = UNIT.build_population(w, UNIT.validate_params({}),
                              seed_sequence(SEED, "population", 0))["y"].to_numpy()
    return float(y.var(ddof=1))


def exact_n(max_rmse: float, size: int = SIZE) -> float:
    """n at which the SRS mean's RMSE, sqrt(S^2 (1/n - 1/N)), is max_rmse."""
    s2 = population_s2(size)
    return s2 / (max_rmse**2 + s2 / size)


def rmse_raw(max_rmse: float = 0.05, design: str = "srs", **solver) -> dict:
    raw = read_toml(TOY)
    raw["experiment"]["chunk_size"] = 400
    raw["designs"] = [{"name": design}]
    raw["plan"]["targets"] = [{"rmse": "mean:y", "max": max_rmse}]
    raw["plan"]["solver"].update({"tolerance": 10, "batch": 100, "confirm_replications": 200,
                                  **solver})
    return raw


def test_plan_finds_the_analytic_rmse_n() -> None:
    run = run_plan(validate_plan(rmse_raw(0.05)))
    frame = plan_frame(run)
    s = frame[frame["row"] == "search"].iloc[0]
    assert s["kind"] == "rmse" and s["threshold"] == 0.05
    assert s["status"] == OK, s.to_dict()
    assert abs(s["value"] - 400) <= 40, s.to_dict()  # within 10% of sd^2 / max^2
    exact = exact_n(0.05)
    assert abs(exact - 392) < 5  # the FPC's share of the answer
    # the reported 95% CI (of the ceil'd root) widened to +/- 3 standard errors
    mid, half = (s["ci_low"] + s["ci_high"]) / 2, (s["ci_high"] - s["ci_low"]) / 2 * 3 / Z
    assert abs(exact - mid) <= half + 1, (exact, s.to_dict())
    # the RMSE measured at the root is max within 3 of its MCSEs
    assert abs(s["achieved"] - 0.05) <= 3 * s["achieved_mcse"]
    c = frame[frame["row"] == "check"].iloc[0]
    assert c["status"] == "meets" and c["replications"] == 200
    rmse_at = math.sqrt(population_s2() * (1 / c["value"] - 1 / SIZE))
    assert abs(c["achieved"] - rmse_at) <= 3 * c["achieved_mcse"]
    d = frame[frame["row"] == "design"].iloc[0]
    assert d["status"] == "feasible" and bool(d["chosen"])
    assert d["value"] == s["ci_high"]  # conservative: the CI's upper end
    assert d["cost"] == pytest.approx(4 * d["value"])
    pr = probes_frame(run)
    assert pr["rmse"].notna().all() and pr["share"].isna().all()
    assert "RMSE of mean:y" in report_md(run, frame)


def test_biased_design_is_unreachable() -> None:
    run = run_plan(validate_plan(rmse_raw(0.05, design="biased")))
    frame = plan_frame(run)
    s = frame[frame["row"] == "search"].iloc[0]
    assert s["status"] == UNREACHABLE and math.isnan(s["value"])
    assert s["replications"] <= 2 * 400  # the two ends, nothing more
    d = frame[frame["row"] == "design"].iloc[0]
    assert d["status"] == "infeasible" and not bool(d["chosen"])
    assert frame[frame["row"] == "check"].empty


# -- engine-free: RmseSearch on a synthetic oracle -------------------------------------

def oracle(space: IntegerSpace, bias: float, seed: int = 1):
    """Errors bias + N(0, 1/n): MSE(n) = bias^2 + 1/n exactly."""
    def evaluate(items):
        return [bias + rng_for(seed, "rmse-test", int(space.value(r.k))).standard_normal(r.m)
                / math.sqrt(space.value(r.k)) for _, r in items]
    return evaluate


SETTINGS = SolverSettings(batch=100, max_probe_replications=400, tolerance=10,
                          max_replications=20000, confirm_replications=200)


@pytest.mark.parametrize(("bias", "upper", "root"), [(0.0, 1000, 400.0), (0.03, 2000, 625.0)])
def test_rmse_search_known_root(bias: float, upper: int, root: float) -> None:
    space = IntegerSpace(20, upper)
    res = run_searches([RmseSearch(space, 0.05, SETTINGS)], oracle(space, bias))[0]
    assert res.status in (OK, "wide_ci"), res.status
    mid, half = (res.ci_low + res.ci_high) / 2, (res.ci_high - res.ci_low) / 2 * 3 / Z
    assert abs(root - mid) <= half, (res.value, res.ci_low, res.ci_high)
    assert res.ci_high - res.ci_low < 0.15 * root
    assert res.replications <= SETTINGS.max_replications


def test_rmse_search_ends_and_bias() -> None:
    space = IntegerSpace(20, 1000)
    low = run_searches([RmseSearch(space, 0.3, SETTINGS)], oracle(space, 0.0))[0]
    assert low.status == TIPPED_AT_LOWER and low.value == 20  # 1/sqrt(20) = 0.22 < 0.3
    # root 1/(0.05^2 - 0.04^2) = 1,111 > 1,000, but the bias (0.04) is under max
    never = run_searches([RmseSearch(space, 0.05, SETTINGS)], oracle(space, 0.04))[0]
    assert never.status == NEVER_TIPS and math.isnan(never.value)
    far = run_searches([RmseSearch(space, 0.05, SETTINGS)], oracle(space, 0.2))[0]
    assert far.status == UNREACHABLE


def test_error_measures_are_the_diagnosis_measures() -> None:
    e = rng_for(3, "rmse-measures").standard_normal(50) * 0.1 + 0.02
    e[[4, 9]] = np.nan  # failed fits are left out
    got = error_measures(e)
    ok = np.isfinite(e)
    v, mc = term_measures(e[ok][None], np.ones((1, ok.sum())), np.full((1, ok.sum()), np.nan),
                          np.zeros((1, ok.sum())), np.ones((1, ok.sum()), bool),
                          np.ones((1, ok.sum()), bool), "successes")
    i = TERM_MEASURES.index
    assert got["n_sim"] == 48
    assert got["rmse"] == pytest.approx(math.sqrt(np.mean(e[ok] ** 2)))
    assert got["rmse"] == pytest.approx(v[0, i("rmse")])
    assert got["rmse_mcse"] == pytest.approx(mc[0, i("rmse")])
    assert got["bias"] == pytest.approx(np.mean(e[ok]))


@pytest.mark.parametrize(("target", "key"), [
    ({"rmse": "mean:y"}, "plan.targets.0"),
    ({"rmse": "mean:y", "max": 0.05, "share": 0.8}, "plan.targets.0"),
    ({"term": "mean:y", "max": 0.05}, "plan.targets.0"),
    ({"rmse": "mean:y", "max": -1.0}, "plan.targets.0.max"),
    ({"rmse": "mean:nope", "max": 0.05}, "plan.targets.0.rmse"),
])
def test_bad_rmse_target_names_the_key(target: dict, key: str) -> None:
    raw = read_toml(TOY)
    raw["plan"]["targets"] = [target]
    with pytest.raises(UserInputError) as info:
        validate_plan(raw)
    assert key in str(info.value)


def test_tipping_refuses_rmse_targets() -> None:
    raw = read_toml(TIPPING_TOY)
    raw["tipping"]["targets"] = [{"rmse": "mean:y", "max": 0.1}]
    with pytest.raises(UserInputError) as info:
        validate_tipping(raw)
    assert "tipping.targets.0.rmse" in str(info.value)
