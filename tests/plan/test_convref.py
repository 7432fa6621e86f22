"""The convref unit (engine/unit_convref.py) and the planner searching a count parameter
of a design (designs.<label>.reference_n).

The count search: the reference sample is a simple random sample of ``reference_n``;
the target "ref:church_tie positive and significant at 5% in 80% of samples" (a Wald z
of the reference sample's share of refugees with a church tie, 7% in the test's world of
5,000) has an exact power (hypergeometric counts; ``exact_reference_n``: 78) that
crosses 0.8 inside the searched range [20, 300]. The test checks what a planner needs: a root inside the
range on the integers, power rising with the count, the cost computed at the count.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim_refugee.engine.unit_convref import MODELS, UNIT
from sim_refugee.errors import UserInputError
from sim_refugee.plan.config import validate_plan
from sim_refugee.plan.costs import cost
from sim_refugee.plan.output import plan_frame, probes_frame
from sim_refugee.plan.run import run_plan
from sim_refugee.seeds import rng_for, seed_sequence
from sim_refugee.validation import validate_model

SEED = 20080401
SIZE = 20000
COUNT_SIZE = 5000  # the count search's world: small, so the test takes seconds
COVARIATES = ["female", "urban_china", "northeast", "korean_chinese_host", "foodaid", "death"]


@pytest.fixture(scope="module")
def pop():
    w = UNIT.validate_world({"size": SIZE})
    return UNIT.build_population(w, UNIT.validate_params({}), seed_sequence(SEED, "population", 0))


def _rec(pop, design: str, dp: dict, unit: dict, rep: int = 0):
    params = UNIT.validate_params(unit)
    dpar = UNIT.validate_design_params(design, dp)
    state = UNIT.prepare(pop, design, dpar, rng_for(SEED, "prepare", design))
    return UNIT.replicate(pop, state, design, 300, dpar, params, rng_for(SEED, "t", rep), rep)


def test_unit_estimates(pop) -> None:
    unit = {"variables": ["arrest", "anxious"], "covariates": COVARIATES, "n_boot": 20}
    params = UNIT.validate_params(unit)
    truth = UNIT.estimand(pop, UNIT.validate_world({"size": SIZE}), params).estimates
    assert truth[:, 0] == pytest.approx(np.tile([pop["arrest"].mean(), pop["anxious"].mean()],
                                                len(MODELS)))
    alone = _rec(pop, "paper", {}, unit)
    row = {m: MODELS.index(m) * 2 for m in MODELS}
    assert list(alone.model_status) == ["ok", "ok", "skipped", "skipped", "skipped"]
    assert np.array_equal(alone.estimates[row["mean"]], alone.estimates[row["naive"]])
    assert np.isnan(alone.estimates[row["dr"]:]).all()
    both = _rec(pop, "convref", {"reference_n": 200}, unit)
    assert list(both.model_status) == ["ok"] * 5 and both.scalars[:2].tolist() == [300, 200]
    assert np.array_equal(both.estimates[row["mean"]], both.estimates[row["dr"]])
    assert np.isfinite(both.estimates[:, :2]).all()  # bootstrap SEs
    # the same replication again: bit-identical (the bootstrap's stream is keyed)
    again = _rec(pop, "convref", {"reference_n": 200}, unit)
    assert np.array_equal(both.estimates, again.estimates)
    ipw = _rec(pop, "convref", {"reference_n": 200}, {**unit, "estimator": "ipw"})
    assert np.array_equal(ipw.estimates[row["mean"]], ipw.estimates[row["ipw"]])
    # the convenience part is the same sample whatever the reference size (naive mean)
    other = _rec(pop, "convref", {"reference_n": 50}, unit)
    assert np.array_equal(other.estimates[row["naive"]], both.estimates[row["naive"]])


@pytest.mark.parametrize(("params", "key"), [
    ({"variables": ["educ"]}, "unit.variables"),
    ({"variables": ["arrest", "arrest"]}, "unit.variables"),
    ({"covariates": ["nope"]}, "unit.covariates"),
    ({"estimator": "mle"}, "unit.estimator"),
    ({"n_bot": 3}, "unit.n_bot"),
])
def test_bad_unit_params_name_the_key(params: dict, key: str) -> None:
    from sim_refugee.engine.unit_convref import ConvRefUnitParams

    with pytest.raises(UserInputError) as info:
        validate_model(ConvRefUnitParams, params, "unit")
    assert key in str(info.value)


def _count_raw() -> dict:
    return {
        "experiment": {"name": "count_search", "unit": "convref", "root_seed": SEED,
                       "chunk_size": 200},
        "world": {"size": COUNT_SIZE},
        "unit": {"variables": ["church_tie"], "covariates": ["foodaid"], "n_boot": 0},
        "designs": [{"name": "convref", "label": "cr", "params": {"reference_n": 100}}],
        "sample": {"n": 100},
        "backend": {"kind": "serial"},
        "plan": {
            "targets": [{"term": "ref:church_tie"}],
            "search": {"parameter": "designs.cr.reference_n", "lower": 20, "upper": 300},
            "check_replications": 80,
            "solver": {"batch": 40, "max_probe_replications": 120, "alpha_probe": 0.05,
                       "tolerance": 30, "max_replications": 480, "confirm_replications": 80},
        },
    }


def exact_reference_n() -> int:
    """The smallest reference size at which the unit's Wald z of the reference share
    (SE sqrt(p (1 - p) / n), the Hajek linearization under equal weights) rejects in 80%
    of simple random samples: the exact hypergeometric power on the realized population."""
    w = UNIT.validate_world({"size": COUNT_SIZE})
    pop = UNIT.build_population(w, UNIT.validate_params({}), seed_sequence(SEED, "population", 0))
    big_k = int(pop["church_tie"].sum())
    z = float(stats.norm.isf(0.025))
    for n in range(20, 301):
        x = np.arange(1, n)
        share = x / n
        power = stats.hypergeom.pmf(x, COUNT_SIZE, big_k, n)[share / np.sqrt(share * (1 - share)
                                                                         / n) > z].sum()
        if power >= 0.8:
            return n
    raise AssertionError("no root in range")


def test_plan_searches_a_count_parameter() -> None:
    cfg = validate_plan(_count_raw())
    run = run_plan(cfg)
    frame = plan_frame(run)
    s = frame[frame["row"] == "search"].iloc[0]
    assert s["parameter"] == "designs.cr.reference_n"
    assert s["status"] in ("ok", "wide_ci"), s.to_dict()
    v = s["value"]
    assert float(v).is_integer() and 20 < v < 300
    # the exact answer within the reported CI widened to 3 SEs (plus 1: integers)
    exact = exact_reference_n()
    half = (s["ci_high"] - s["ci_low"]) / 2 * 3 / float(stats.norm.isf(0.025))
    assert abs(exact - (s["ci_low"] + s["ci_high"]) / 2) <= half + 1, (exact, s.to_dict())
    # power rises with the count: every probe decided "below" lies under every "above"
    pr = probes_frame(run)
    below = pr.loc[pr["decision"] == "below", "value"]
    above = pr.loc[pr["decision"] == "above", "value"]
    assert len(below) and len(above) and below.max() < above.min()
    lo, hi = pr.loc[pr["value"].idxmin()], pr.loc[pr["value"].idxmax()]
    assert lo["share"] < 0.8 < hi["share"]
    # the cost is computed at the count: the convref defaults with reference_n = value
    d = frame[frame["row"] == "design"].iloc[0]
    planned = int(d["value"])
    dp = UNIT.validate_design_params("convref", {"reference_n": planned}).model_dump()
    assert d["cost"] == pytest.approx(cost(cfg.costs["cr"], 100, dp))
    # 100 convenience interviews (1 each, 10 site-days at 2), 11 sites at 30,
    # 48 interviewers at 5, and 4 per reference interview
    assert d["cost"] == pytest.approx(100 + 10 * 2 + 11 * 30 + 48 * 5 + 4 * planned)
    c = frame[frame["row"] == "check"].iloc[0]
    assert c["value"] == planned and c["status"] == "meets" and c["replications"] == 80


def test_engine_runs_and_diagnoses_the_convref_unit(tmp_path) -> None:
    """`run` and `diagnose` on the unit: both designs, no claims (an empty claim
    dimension is stored), ipw/dr/ref skipped for the convenience design alone, every
    model's estimand the census mean."""
    from sim_refugee.diagnosis.measures import diagnose
    from sim_refugee.engine import open_results, run_experiment
    from sim_refugee.engine.config import validate_experiment

    exp = validate_experiment({
        "experiment": {"name": "cr_engine", "unit": "convref", "root_seed": SEED,
                       "replications": 4, "chunk_size": 2},
        "world": {"size": COUNT_SIZE},
        "unit": {"variables": ["trafficking"], "covariates": COVARIATES, "n_boot": 5},
        "sample": {"n": 300},
        "backend": {"kind": "serial"},
        "designs": [{"name": "paper"}, {"name": "convref", "params": {"reference_n": 150}}],
    })
    run_experiment(exp, tmp_path / "run", progress=False)
    res = open_results(tmp_path / "run")
    assert res.sizes["claim"] == 0
    w = UNIT.validate_world({"size": COUNT_SIZE})
    pop = UNIT.build_population(w, UNIT.validate_params({}), seed_sequence(SEED, "population", 0))
    theta = res["estimand"].sel(statistic="estimate").values
    assert np.allclose(theta, pop["trafficking"].mean())
    st = res["model_status"].sel(design="paper").values
    assert (st[..., list(res["model"].values).index("dr")] == "skipped").all()
    d = diagnose(res)
    rmse = d["value"].sel(measure="rmse", basis="successes", condition=d["condition"][0])
    assert np.isfinite(float(rmse.sel(design="convref", model_term="dr:trafficking")))
    assert np.isnan(float(rmse.sel(design="paper", model_term="dr:trafficking")))
    assert float(rmse.sel(design="paper", model_term="mean:trafficking")) == pytest.approx(
        float(rmse.sel(design="paper", model_term="naive:trafficking")))
