"""Calibration: the expected paper-design sample hits every documented margin (within 1
point), across selection strengths; population mode; a clear failure when impossible."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq

from sim_refugee.designs import get_design
from sim_refugee.seeds import rng_for, seed_sequence
from sim_refugee.targets import assumption_defaults
from sim_refugee.world import (
    SITES,
    CalibrationError,
    ReachParams,
    WorldConfig,
    build_population,
    build_population_with_calibration,
    reach_propensity,
)

# The paper's documented sample margins, typed here from the paper's text (not read from
# the package) so that a wrong number in paper.yaml fails: (column, level, group, value).
DOCUMENTED = {
    "female 52%": ("female", 1, "all", 0.52),
    "elementary 44%": ("educ", "elementary", "all", 0.44),
    "high school 53%": ("educ", "secondary", "all", 0.53),
    "laborers 54%": ("occupation", "worker", "all", 0.54),
    "farmers 34%": ("occupation", "farmer", "all", 0.34),
    "North Hamgyong 57%": ("province", "north_hamgyong", "all", 0.57),
    "South Hamgyong 19%": ("province", "south_hamgyong", "all", 0.19),
    "death men 23%": ("death", 1, "male", 0.23),
    "death women 37%": ("death", 1, "female", 0.37),
    "foodaid ~57%": ("foodaid", 1, "all", 0.57),
    "separated from family 23%": ("family_missing", 1, "all", 0.23),
    "camp ~9.5%": ("camp", 1, "all", 0.095),
    "arrest >25%": ("arrest", 1, "all", 0.27),
    "trafficking 53%": ("trafficking", 1, "all", 0.53),
    ">3y women 41%": ("china_spell", ">3y", "female", 0.41),
    ">3y men 23%": ("china_spell", ">3y", "male", 0.23),
    ">3y total 32%": ("china_spell", ">3y", "all", 0.32),
    "lives with Korean-Chinese 76%": ("korean_chinese_host", 1, "all", 0.76),
    "employed 22%": ("job", 1, "all", 0.22),
    "South Korea 64%": ("dest", "south_korea", "all", 0.64),
    "United States 19%": ("dest", "united_states", "all", 0.19),
    "China 14%": ("dest", "china", "all", 0.14),
}


def expected_sample_shares(pop, reach: ReachParams) -> dict[str, float]:
    """Expected paper-design sample margins, computed here from first principles: a
    site's quota share times the reach-weighted mean inside its catchment."""
    d = assumption_defaults()
    quota = {s: d[f"site.share.{s}"] for s in SITES}
    total_q = sum(quota.values())
    r = reach_propensity(pop, reach)
    out = {}
    for name, (col, level, group, _) in DOCUMENTED.items():
        acc = 0.0
        for s in SITES:
            m = (pop["home_site"] == s).to_numpy()
            if group != "all":
                m = m & (pop["female"] == (group == "female")).to_numpy()
            y = (pop[col] == level).to_numpy()[m]
            acc += quota[s] / total_q * np.sum(r[m] * y) / np.sum(r[m])
        out[name] = acc
    return out


def ss_weights(pop, reach: ReachParams, n: int) -> np.ndarray:
    """Expected-sample weights at sample size n, written independently of the package:
    site quotas by largest remainder, then successive-sampling inclusion probabilities
    pi = 1 - exp(-lam r) with sum(pi) = n_s found by brentq."""
    d = assumption_defaults()
    q = np.array([d[f"site.share.{s}"] for s in SITES])
    raw = n * q / q.sum()
    n_s = np.floor(raw).astype(int)
    n_s[np.argsort(-(raw - n_s), kind="stable")[: n - n_s.sum()]] += 1
    r = reach_propensity(pop, reach)
    pi = np.zeros(len(pop))
    for s, k in zip(SITES, n_s, strict=True):
        m = (pop["home_site"] == s).to_numpy()
        lam = brentq(lambda x, m=m, k=k: np.sum(-np.expm1(-x * r[m])) - k, 1e-12, 1e6,
                     xtol=1e-14)
        pi[m] = -np.expm1(-lam * r[m])
    return pi / pi.sum()


def weighted_median_age(pop, reach):
    d = assumption_defaults()
    r = reach_propensity(pop, reach)
    w = np.zeros(len(pop))
    for s in SITES:
        m = (pop["home_site"] == s).to_numpy()
        w[m] = d[f"site.share.{s}"] * r[m] / r[m].sum()
    age = pop["age"].to_numpy()
    order = np.argsort(age, kind="stable")
    cw = np.cumsum(w[order])
    return age[order][np.searchsorted(cw, 0.5 * cw[-1])]


def test_default_world_expected_sample_within_one_point(default_pop):
    """In the n << N limit (first-order formula, computed here): within 1 point even
    though the world is calibrated at n = 1,346 (the two differ by depletion only)."""
    got = expected_sample_shares(default_pop, ReachParams())
    bad = {k: round(v, 4) for k, v in got.items() if abs(v - DOCUMENTED[k][3]) > 0.01}
    assert bad == {}
    assert weighted_median_age(default_pop, ReachParams()) == 38
    # the documented gender contrasts
    assert got["death women 37%"] > got["death men 23%"] + 0.1
    assert got[">3y women 41%"] > got[">3y men 23%"] + 0.1


def test_gender_contrasts_in_expected_sample(default_pop):
    """Men more often detained (Table 6), no gender gap in arrests (sec. IV)."""
    d = assumption_defaults()
    quota = {s: d[f"site.share.{s}"] for s in SITES}
    r = reach_propensity(default_pop, ReachParams())
    w = np.zeros(len(default_pop))
    for s in SITES:
        m = (default_pop["home_site"] == s).to_numpy()
        w[m] = quota[s] * r[m] / r[m].sum()
    fem = default_pop["female"].to_numpy() == 1

    def share(col, m):
        return np.sum(w[m] * default_pop[col].to_numpy()[m]) / np.sum(w[m])

    assert share("camp", ~fem) >= 0.111 and share("camp", fem) < 0.10
    assert abs(share("arrest", ~fem) - share("arrest", fem)) < 0.005


def test_report_table_matches_independent_computation(default_world):
    """The report's expected sample (calibrated at the paper's n = 1,346) equals an
    independent successive-sampling computation, and hits the targets."""
    pop, res = default_world
    assert res.converged and res.mode == "sample"
    tab = res.table.set_index("name")
    w = ss_weights(pop, ReachParams(), 1346)
    fem = pop["female"].to_numpy() == 1
    got_female = np.sum(w * fem)
    got_job = np.sum(w * pop["job"].to_numpy())
    got_death_w = np.sum(w[fem] * pop["death"].to_numpy()[fem]) / np.sum(w[fem])
    assert abs(tab.loc["female", "expected_sample"] - got_female) < 1e-6
    assert abs(tab.loc["employed", "expected_sample"] - got_job) < 1e-6
    assert abs(tab.loc["death_women", "expected_sample"] - got_death_w) < 1e-6
    for val, target in ((got_female, 0.52), (got_job, 0.22), (got_death_w, 0.37)):
        assert abs(val - target) < 0.001
    # the implied population differs from the sample where selection acts
    assert tab.loc["urban_china", "population"] < tab.loc["urban_china", "expected_sample"] - 0.1


def test_single_paper_draw_within_sampling_error(default_pop):
    """One n = 1,346 draw: every documented share within 4 binomial SEs of its target
    (quota sampling by site only lowers the SE; 22 margins x P(|z| > 4) ~ 0.0014)."""
    design = get_design("paper")
    params = design.Params()
    n = 1346
    s = design.draw(default_pop, None, n, params, rng_for(2024, "sample", 0, 0))
    for name, (col, level, group, p) in DOCUMENTED.items():
        sub = s if group == "all" else s[s["female"] == (group == "female")]
        sub = sub[sub[col].notna()]  # the paper's shares are of the valid answers
        se = np.sqrt(p * (1 - p) / len(sub))
        assert abs((sub[col] == level).mean() - p) < 4 * se, name
    assert abs(s["age"].median() - 38) <= 2


@pytest.mark.parametrize("strength", [1.0, 4.0])
def test_calibration_from_no_selection_to_odds_ratio_four(strength):
    """The same targets are reached with every channel off (OR=1) and with OR=4 on every
    channel (distress: OR per SD; time: OR 4 per 3 years)."""
    sel = dict(or_urban=strength, or_border=strength, or_korean_chinese=strength,
               or_church=strength, or_time_per_year=strength ** (1 / 3),
               or_distress=strength, or_worker=strength, or_famine=strength)
    reach = ReachParams(**sel)
    pop, res = build_population_with_calibration(
        WorldConfig(size=40_000, selection=sel), seed_sequence(3, "population", 0))
    assert res.converged
    got = expected_sample_shares(pop, reach)
    bad = {k: round(v, 4) for k, v in got.items() if abs(v - DOCUMENTED[k][3]) > 0.01}
    assert bad == {}


def test_population_mode_hits_population_margins():
    pop = build_population(WorldConfig(size=30_000, calibration="population",
                                       targets={"female": 0.45}),
                           seed_sequence(8, "population", 0))
    assert abs(pop["female"].mean() - 0.45) < 0.002
    assert abs((pop["educ"] == "elementary").mean() - 0.44) < 0.002
    assert abs(pop.loc[pop.female == 1, "death"].mean() - 0.37) < 0.003
    assert abs(pop["job"].mean() - 0.22) < 0.002
    assert pop["age"].median() == 38


def test_impossible_calibration_fails_clearly():
    """Nobody inside a catchment: the paper design reaches no one."""
    cfg = WorldConfig(size=5_000, assumptions={"site.none_urban": 1.0, "site.none_rural": 1.0})
    with pytest.raises(CalibrationError, match="reachable"):
        build_population(cfg, seed_sequence(1, "population", 0))


def test_small_population_still_calibrates():
    """Below 10,000 people the tolerance widens to half a sampling SE at the effective
    expected-sample size (~0.25/sqrt(n_eff), ~0.01 at 1,500 people)."""
    pop, res = build_population_with_calibration(WorldConfig(size=1_500),
                                                  seed_sequence(2, "population", 0))
    assert res.converged and res.max_error < 0.02
    assert len(pop) == 1_500
