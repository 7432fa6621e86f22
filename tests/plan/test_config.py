"""Plan config validation and the cost model (plan/config.py, plan/costs.py)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from sim_refugee.cli import main
from sim_refugee.errors import UserInputError
from sim_refugee.io import read_toml
from sim_refugee.plan.config import validate_plan
from sim_refugee.plan.costs import CostModel, cost, resolved_costs

TOY = Path(__file__).resolve().parents[2] / "experiments" / "plan_toy.toml"
PAPER = Path(__file__).resolve().parents[2] / "experiments" / "plan_paper.toml"


def toy(**plan) -> dict:
    raw = read_toml(TOY)
    raw["plan"].update(plan)
    return raw


@pytest.mark.parametrize(("edit", "key"), [
    (lambda r: r["plan"].update(budget=10), "plan.budget"),
    (lambda r: r["plan"].update(costs={"srs": {"per_intreview": 2.0}}),
     "plan.costs.srs.per_intreview"),
    (lambda r: r["plan"].update(costs={"tls": {}}), "plan.costs.tls"),
    (lambda r: r["plan"]["search"].update(lower=2000), "plan.search.upper"),
    (lambda r: r["plan"]["search"].update(parameter="world.mean_y"), "plan.search.parameter"),
    (lambda r: r["plan"].update(scenarios=[{"name": "a", "set": {"designs.x.k": 1}}]),
     "plan.scenarios.0.set.designs.x.k"),
    (lambda r: r["plan"].update(scenarios=[{"name": "a", "set": {"sample.n": 5}}]),
     "plan.scenarios.0.set.sample.n"),
    (lambda r: r["plan"]["targets"].append({"claim": "nope"}), "plan.targets.1.claim"),
    (lambda r: r["experiment"].update(replications=10), "experiment.replications"),
    (lambda r: r.pop("plan"), "plan"),
])
def test_bad_config_names_the_key(edit, key) -> None:
    raw = read_toml(TOY)
    edit(raw)
    with pytest.raises(UserInputError) as info:
        validate_plan(raw)
    assert key in str(info.value)


def test_bad_config_exits_2_and_writes_nothing(tmp_path: Path, capsys) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text(TOY.read_text().replace("share = 0.8", "share = 0.8\nbudgett = 3"))
    out = tmp_path / "out"
    assert main(["plan", str(cfg), "--out", str(out)]) == 2
    assert "plan.budgett" in capsys.readouterr().err
    assert not out.exists()


def test_scenarios_apply_to_their_design_only() -> None:
    raw = read_toml(PAPER)
    cfg = validate_plan(raw)
    assert cfg.designs == ["paper", "srs"]
    assert cfg.scenarios == ["default_reach", "e1.5_d-1.5", "e4_d0", "e4_d-3"]
    paper = [c for c in cfg.cells if c.design == "paper"]
    srs = [c for c in cfg.cells if c.design == "srs"]
    # the reach scenarios change the paper design: four distinct searches
    assert all(c.same_as is None for c in paper)
    reach = paper[3].cfg.condition(0, 0).design_params["paper"]["reach"]
    assert reach["or_famine"] == pytest.approx(54.598)
    assert reach["or_distress"] == pytest.approx(0.04979)
    # SRS is the same in all of them: one search, reused
    assert srs[0].same_as is None and all(c.same_as == cfg.cells.index(srs[0])
                                          for c in srs[1:])


def test_cost_formula_and_defaults() -> None:
    m = CostModel(per_interview=2.0, sites=3, per_site_setup=10.0, per_site_day=1.0,
                  interviews_per_site_day=5.0, per_interviewer=4.0, per_coupon=0.5,
                  per_wave=7.0, waves=2, per_reference_interview=3.0, fixed=100.0)
    dp = {"n_interviewers": 6, "coupons": 3, "n_seeds": 10, "reference_n": 20}
    # 100 + 2*101 + 3*10 + ceil(101/5)*1 + 6*4 + (101-10)*0.5 + 2*7 + 20*3
    assert cost(m, 101, dp) == pytest.approx(100 + 202 + 30 + 21 + 24 + 45.5 + 14 + 60)
    paper = resolved_costs("paper", CostModel.model_validate({"per_interview": 1.5}))
    assert paper.per_interview == 1.5 and paper.sites == 11  # given key over the default
    assert resolved_costs("unknown", None) == CostModel()
    # the combined design's interviewers are its convenience part's
    cr = resolved_costs("convref", None)
    assert cost(cr, 100, {"reference_n": 50, "convenience": {"n_interviewers": 48}}) == \
        pytest.approx(100 + 10 * 2 + 11 * 30 + 48 * 5 + 50 * 4)


def test_toy_default_scenario_is_base() -> None:
    cfg = validate_plan(copy.deepcopy(toy()))
    assert cfg.scenarios == ["base"] and len(cfg.cells) == 1
