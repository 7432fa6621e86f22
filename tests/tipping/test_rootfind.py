"""The stochastic root finder on synthetic Bernoulli oracles with known roots.

The oracle at grid index k returns the first m draws of its own keyed stream
(rng_for(seed, "oracle", k)), so asking again with a larger m extends, never changes,
the outcomes (the contract ``solve`` documents).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import ValidationError
from scipy import stats

from sim_refugee.seeds import rng_for
from sim_refugee.tipping.rootfind import (
    NEVER_TIPS,
    OK,
    TIPPED_AT_LOWER,
    GridSpace,
    IntegerSpace,
    RootSearch,
    SolverSettings,
    fieller_root,
    fit_local_probit,
    run_searches,
    solve,
)


def oracle_for(share, space, seed: int):
    """Outcomes of replications [0, m) at grid index k, Bernoulli(share(x_k))."""
    def oracle(k: int, m: int) -> np.ndarray:
        return (rng_for(seed, "oracle", k).random(m) < share(space.value(k))).astype(float)
    return oracle


def probit_share(theta: float, beta: float):
    return lambda x: stats.norm.cdf(beta * (x - theta))


SPACE = GridSpace(0.0, 0.6, 10)
#: The toy's curve at n = 100: share = Phi(10 x - 1.96), root 0.196.
THETA, BETA = 1.959964 / 10, 10.0


def test_ci_coverage_is_nominal_over_many_searches() -> None:
    """The 95% CI covers the root in ~95% of independent searches; the standardized
    errors have mean ~0 (no bias). Tolerances: 3 MCSE of the coverage share and of the
    mean z."""
    st = SolverSettings(tolerance=0.01, confirm_replications=100)
    n_runs = 150
    cover, z = [], []
    for seed in range(n_runs):
        r = solve(oracle_for(probit_share(THETA, BETA), SPACE, seed), SPACE, 0.5, st)
        assert r.status == OK
        assert r.replications <= st.max_replications
        cover.append(r.ci_low <= THETA <= r.ci_high)
        z.append((r.value - THETA) / ((r.ci_high - r.ci_low) / 2 / 1.959964))
    cov = float(np.mean(cover))
    mcse = math.sqrt(0.95 * 0.05 / n_runs)
    assert abs(cov - 0.95) <= 3 * mcse, (cov, mcse)
    z = np.array(z)
    assert abs(z.mean()) <= 3 * z.std(ddof=1) / math.sqrt(n_runs), z.mean()


def test_precision_reaches_the_tolerance_and_confirms() -> None:
    st = SolverSettings(tolerance=0.004, confirm_replications=300)
    r = solve(oracle_for(probit_share(THETA, BETA), SPACE, 11), SPACE, 0.5, st)
    assert r.status == OK
    assert (r.ci_high - r.ci_low) / 2 <= 0.004
    assert r.confirm_replications >= 300
    assert abs(r.confirm_value - r.value) <= 0.002 + (SPACE.value(1) - SPACE.value(0))
    # the share measured at the answer is p within 3 of its MCSEs
    assert abs(r.share_at_value - 0.5) <= 3 * r.share_mcse
    assert r.bracket_low < r.value < r.bracket_high
    assert sum(p.m for p in r.probes) == r.replications


def test_other_target_shares_and_decreasing_noise() -> None:
    """p = 0.1 (the coverage case: 1 - 0.9) on a logistic curve, not the local model."""
    def share(x):
        return 1 / (1 + np.exp(-30 * (x - 0.3)))
    root = 0.3 + math.log(0.1 / 0.9) / 30
    r = solve(oracle_for(share, SPACE, 5), SPACE, 0.1,
              SolverSettings(tolerance=0.01, ci_level=0.9973))
    assert r.status == OK
    assert r.ci_low <= root <= r.ci_high


def test_integer_space_sample_size_at_80_percent_power() -> None:
    """The planner's use (issue 16): the n at which a one-sided z-test of effect 0.2 SD
    has 80% power, known exactly: ((1.959964 + 0.841621) / 0.2)^2 = 196.2."""
    space = IntegerSpace(10, 1000)
    power = lambda n: stats.norm.cdf(0.2 * math.sqrt(n) - 1.959964)  # noqa: E731
    exact = ((1.959964 + 0.841621) / 0.2) ** 2
    r = solve(oracle_for(power, space, 3), space, 0.8,
              SolverSettings(tolerance=10.0, ci_level=0.9973, max_replications=20000))
    assert r.status == OK
    assert r.ci_low <= exact <= r.ci_high
    assert abs(r.value - exact) <= 0.1 * exact
    assert all(float(p.x).is_integer() for p in r.probes)


def test_never_tips_and_tipped_at_lower_are_explicit() -> None:
    st = SolverSettings()
    never = solve(oracle_for(lambda x: 0.05, SPACE, 1), SPACE, 0.5, st)
    assert never.status == NEVER_TIPS
    assert math.isnan(never.value) and never.ci_low == SPACE.upper and math.isnan(never.ci_high)
    low = solve(oracle_for(lambda x: 0.95, SPACE, 1), SPACE, 0.5, st)
    assert low.status == TIPPED_AT_LOWER
    assert low.value == SPACE.lower and low.ci_high == SPACE.lower and math.isnan(low.ci_low)
    # a share that falls with x is already tipped at the lower end, too
    dec = solve(oracle_for(lambda x: 1 - x, SPACE, 1), SPACE, 0.5, st)
    assert dec.status == TIPPED_AT_LOWER
    # the ends are decided by their first batches: nothing else is spent
    assert never.replications == low.replications == 2 * st.batch


def test_budget_is_respected() -> None:
    st = SolverSettings(max_replications=300, tolerance=0.001)
    r = solve(oracle_for(probit_share(THETA, BETA), SPACE, 2), SPACE, 0.5, st)
    assert r.replications <= 300
    assert r.status in ("wide_ci", "no_fit", "budget_spent", "not_confirmed")


def test_deterministic_and_independent_of_other_searches() -> None:
    """A search's result depends only on its own outcomes: alone or in lockstep with
    another search, twice, it is the same."""
    st = SolverSettings(tolerance=0.01)
    o1 = oracle_for(probit_share(THETA, BETA), SPACE, 8)
    o2 = oracle_for(probit_share(0.4, 5.0), SPACE, 9)
    alone = solve(o1, SPACE, 0.5, st)
    again = solve(o1, SPACE, 0.5, st)
    oracles = [o1, o2]
    both = run_searches([RootSearch(SPACE, 0.5, st), RootSearch(SPACE, 0.5, st)],
                        lambda items: [oracles[i](q.k, q.m) for i, q in items])
    for r in (again, both[0]):
        assert (r.value, r.ci_low, r.ci_high, r.replications) == (
            alone.value, alone.ci_low, alone.ci_high, alone.replications)
    assert both[1].ci_low <= 0.4 <= both[1].ci_high


def test_fieller_interval_against_its_definition() -> None:
    """Every x inside the interval satisfies (eta(x) - c)^2 <= z^2 Var(eta(x)); just
    outside, it does not."""
    x = np.array([0.1, 0.15, 0.2, 0.25, 0.3])
    m = np.array([200, 200, 400, 200, 200])
    e = np.round(m * stats.norm.cdf(10 * (x - 0.2))).astype(int)
    fit = fit_local_probit(x, e, m)
    assert fit is not None
    root, lo, hi = fieller_root(fit, 0.5, 0.95)
    assert lo < root < hi
    z = stats.norm.ppf(0.975)

    def inside(xx: float) -> bool:
        u = (xx - fit.center) / fit.scale
        g = np.array([1.0, u])
        return (fit.b0 + fit.b1 * u) ** 2 <= z**2 * g @ fit.cov @ g
    eps = 1e-6
    assert inside(lo + eps) and inside(hi - eps) and inside(root)
    assert not inside(lo - 1e-3) and not inside(hi + 1e-3)


def test_oracle_contract_is_checked() -> None:
    with pytest.raises(ValueError, match="zeros/ones"):
        solve(lambda k, m: np.full(m, 0.5), SPACE, 0.5)
    with pytest.raises(ValueError, match="target share"):
        RootSearch(SPACE, 1.0)


def test_settings_are_validated() -> None:
    with pytest.raises(ValidationError, match="max_probe_replications"):
        SolverSettings(batch=50, max_probe_replications=20)
    with pytest.raises(ValidationError):
        SolverSettings(ci_level=1.0)
    with pytest.raises(ValueError):
        GridSpace(1.0, 1.0)
    with pytest.raises(ValueError):
        IntegerSpace(5, 5)
