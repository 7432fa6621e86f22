"""Stochastic root finding for a decreasing RMSE: the smallest x (a sample size, a count)
at which the RMSE of an estimate against its census value is at most ``max``.

RMSE is not a Bernoulli share, so ``rootfind.RootSearch`` (binomial tests, probit) does
not apply as it stands; this search has the same structure and the same ask/tell
protocol (``run_searches`` drives both in lockstep), with the measure's own Monte
Carlo error:

* *Measure at a point.* The outcomes of replication r at point k are the errors
  e_r = est_r - theta (NaN when the fit failed: such replications are left out, the
  "successes" basis). MSE, RMSE, bias and their MCSEs come from
  ``diagnosis.measures.term_measures`` (Morris, White & Crowther 2019: MCSE(MSE) =
  sd(e^2) / sqrt(n), MCSE(RMSE) = MCSE(MSE) / (2 RMSE)); no formula is repeated here.
* *Sequential test at a probe.* Batches until the normal interval MSE +/- z MCSE(MSE)
  (z Bonferroni-adjusted over the looks, as the binomial test) excludes max^2 on one
  side ("reached" / "not reached"), or the probe's cap ("undecided": the RMSE there
  is within Monte Carlo noise of max).
* *Ends.* If reached at the lower end: the answer is the lower end. If not reached at
  the upper end: ``unreachable`` when the bias alone exceeds max (|bias| - 3 MCSE > max:
  no sample size removes a selection bias) else ``never_tips`` (not within the range).
* *Bracketing.* A safeguarded secant: the next probe is the root of the model fitted so
  far (below), kept strictly inside the decided bracket, with a bisection step whenever
  the previous step did not halve the bracket. Each decided probe narrows the bracket;
  an undecided probe (or a bracket narrower than twice the tolerance) ends the phase.
* *Local model.* MSE(x) = a + v / x (bias^2 plus variance / n; a finite population
  correction only moves a by -S^2 / N). It is linear in u = 1 / x, fitted by weighted
  least squares on the probes in the bracket with weights 1 / MCSE(MSE)^2, its
  covariance inflated by the residual chi^2 / df when that exceeds 1 (model misfit or
  underestimated MCSEs). The root is u* = (max^2 - a) / v and its CI is Fieller's
  (``rootfind.fieller_interval``, the probit root's), mapped back to x = 1 / u.
* *Refinement and confirmation.* Batches at the root estimate until the CI half-width
  is below the tolerance (or the budget is spent), then the point at the root is topped
  up to ``confirm_replications``: its RMSE (MCSE) is reported, ``not_confirmed`` when
  it is more than 3 MCSEs from max.

The result is a ``rootfind.RootResult``: ``target`` = max, ``share_at_value`` /
``share_mcse`` = the RMSE (MCSE) at the confirmation point, each probe's ``measure``
its RMSE; ``fit`` holds (a, v) with center 0 and scale 1 in u = 1/x units.
"""

from __future__ import annotations

import math
from collections.abc import Generator

import numpy as np
from scipy import stats

from sim_refugee.diagnosis.measures import TERM_MEASURES, term_measures
from sim_refugee.search.rootfind import (
    ABOVE,
    BELOW,
    BUDGET_SPENT,
    CONFIRM_Z,
    NEVER_TIPS,
    NO_FIT,
    NOT_CONFIRMED,
    OK,
    TIPPED_AT_LOWER,
    UNDECIDED,
    WIDE_CI,
    LocalFit,
    Outcomes,
    Probe,
    Request,
    RootResult,
    SolverSettings,
    Space,
    fieller_interval,
)

#: Status of an RMSE search whose bias alone exceeds max at the upper end.
UNREACHABLE = "unreachable"
_IDX = {m: TERM_MEASURES.index(m) for m in ("n_sim", "bias", "mse", "rmse")}


def error_measures(errors: np.ndarray) -> dict[str, float]:
    """n, bias, MSE, RMSE and their MCSEs of errors est - theta (NaN: a failed fit),
    computed by ``diagnosis.measures.term_measures`` (basis "successes")."""
    e = np.asarray(errors, float)[None, :]
    ok = np.isfinite(e)
    v, mc = term_measures(np.where(ok, e, np.nan), np.ones_like(e), np.full_like(e, np.nan),
                          np.zeros_like(e), np.ones_like(ok), ok, "successes")
    out = {m: float(v[0, i]) for m, i in _IDX.items()}
    out.update({f"{m}_mcse": float(mc[0, i]) for m, i in _IDX.items() if m != "n_sim"})
    return out


class RmseSearch:
    """One RMSE root search (see module docstring); ``run()`` is an ask/tell generator
    like ``RootSearch.run``: it yields ``Request``s, is sent the errors of replications
    [0, m) at the point, and returns a ``RootResult``."""

    def __init__(self, space: Space, max_rmse: float, settings: SolverSettings | None = None
                 ) -> None:
        if not (max_rmse > 0 and math.isfinite(max_rmse)):
            raise ValueError(f"max RMSE must be positive, got {max_rmse}")
        self.space = space
        self.max = float(max_rmse)
        self.s = settings or SolverSettings()
        self.tol = self.s.tolerance or (space.value(space.size) - space.value(0)) / 100
        self.errors: dict[int, np.ndarray] = {}
        self.decision: dict[int, str] = {}

    @property
    def used(self) -> int:
        return sum(len(e) for e in self.errors.values())

    def _m(self, k: int) -> int:
        return len(self.errors.get(k, ()))

    def _room(self, k: int, m_new: int) -> bool:
        return self.used - self._m(k) + m_new <= self.s.max_replications

    def _x(self, k: int) -> float:
        return self.space.value(k)

    def measures(self, k: int) -> dict[str, float]:
        """Bias, MSE, RMSE (with MCSEs) of the replications run at point k."""
        return error_measures(self.errors[k])

    def _ask(self, k: int, m_new: int) -> Generator[Request, Outcomes, None]:
        out = np.asarray((yield Request(k, m_new)), float)
        if out.shape != (m_new,):
            raise ValueError(f"oracle must return {m_new} errors for point {k}")
        self.errors[k] = out

    def _test(self, k: int) -> Generator[Request, Outcomes, str]:
        """Sequential normal test of MSE(x_k) against max^2 (Bonferroni over the looks)."""
        looks = math.ceil(self.s.max_probe_replications / self.s.batch)
        z = float(stats.norm.isf(self.s.alpha_probe / (2 * looks)))
        target = self.max**2
        while True:
            have = self._m(k)
            if have >= self.s.max_probe_replications:
                break
            nxt = min(have + self.s.batch, self.s.max_probe_replications)
            if not self._room(k, nxt):
                break
            yield from self._ask(k, nxt)
            m = self.measures(k)
            if not (m["n_sim"] >= 2 and math.isfinite(m["mse_mcse"])):
                continue
            if m["mse"] - z * m["mse_mcse"] > target:
                self.decision[k] = BELOW  # not reached at x_k: the root is above
                return BELOW
            if m["mse"] + z * m["mse_mcse"] < target:
                self.decision[k] = ABOVE  # reached at x_k: the root is at or below
                return ABOVE
        self.decision[k] = UNDECIDED
        return UNDECIDED

    def fit(self, a: int, b: int) -> LocalFit | None:
        """Weighted least squares of MSE on u = 1/x over the probes in [a, b] (see module
        docstring); None if fewer than two usable points or a non-positive slope.

        Weights: Var(MSE_i) = c f(x_i)^2 / m_i, f the fitted MSE and c the relative
        variance of one squared error, pooled over the points from their MCSEs
        (MCSE(MSE)^2 m / MSE^2), iterated (IRLS). Weighting by each point's own
        estimated MCSE instead would favour the points whose MSE came out low by chance
        (the MCSE of a mean of squares grows with it) and bias the root low."""
        pts = [(1.0 / self._x(k), self.measures(k)) for k in sorted(self.errors) if a <= k <= b]
        pts = [(u, me) for u, me in pts if me["n_sim"] >= 2 and me["mse"] > 0
               and me["mse_mcse"] > 0 and math.isfinite(me["mse_mcse"])]
        if len({u for u, _ in pts}) < 2:
            return None
        u = np.array([p[0] for p in pts])
        y = np.array([p[1]["mse"] for p in pts])
        m = np.array([p[1]["n_sim"] for p in pts])
        rel = np.array([p[1]["mse_mcse"] ** 2 * p[1]["n_sim"] / p[1]["mse"] ** 2 for p in pts])
        c = float(m @ rel / m.sum())  # relative variance of one squared error, pooled
        X = np.column_stack([np.ones_like(u), u])
        f = np.full_like(y, float(m @ y / m.sum()))
        for _ in range(4):
            w = m / (c * np.maximum(f, 1e-12 * float(y.max())) ** 2)
            xtwx = (X * w[:, None]).T @ X
            try:
                cov = np.linalg.inv(xtwx)
            except np.linalg.LinAlgError:
                return None
            beta = cov @ ((X * w[:, None]).T @ y)
            fitted = X @ beta
            f = np.where(fitted > 0, fitted, y)
        df = len(u) - 2
        if df > 0:
            chi2 = float(w @ (y - X @ beta) ** 2)
            cov = cov * max(1.0, chi2 / df)
        if not (np.all(np.isfinite(beta)) and np.all(np.isfinite(cov)) and beta[1] > 0):
            return None
        return LocalFit(float(beta[0]), float(beta[1]), cov, 0.0, 1.0)

    def root(self, fit: LocalFit | None) -> tuple[float, float, float]:
        """(root, CI low, CI high) in x units from a fit in u = 1/x (NaN: unknown or
        unbounded; an upper bound is unbounded when the u interval reaches 0)."""
        if fit is None:
            return (math.nan,) * 3
        ru, lo_u, hi_u = fieller_interval(fit.b0, fit.b1, fit.cov, self.max**2, self.s.ci_level)
        x = 1.0 / ru if ru > 0 else math.inf
        lo = 1.0 / hi_u if math.isfinite(hi_u) and hi_u > 0 else math.nan
        hi = 1.0 / lo_u if math.isfinite(lo_u) and lo_u > 0 else math.nan
        return x, lo, hi

    def run(self) -> Generator[Request, Outcomes, RootResult]:
        K = self.space.size
        lo_dec = yield from self._test(0)
        hi_dec = yield from self._test(K)
        if lo_dec == ABOVE:
            return self._result(TIPPED_AT_LOWER, self._x(0), math.nan, self._x(0))
        if hi_dec == BELOW:
            m = self.measures(K)
            status = (UNREACHABLE if abs(m["bias"]) - CONFIRM_Z * m["bias_mcse"] > self.max
                      else NEVER_TIPS)
            return self._result(status, math.nan, self._x(K), math.nan)
        a, b = 0, K
        bisect = False
        while b - a > 1 and self._x(b) - self._x(a) > 2 * self.tol:
            if bisect:
                k = (a + b) // 2
            else:
                x_star = self.root(self.fit(a, b))[0]
                k = (self.space.index(x_star) if math.isfinite(x_star) and x_star > 0
                     else (a + b) // 2)
            k = min(max(k, a + 1), b - 1)
            if not self._room(k, self._m(k) + self.s.batch):
                break
            width = b - a
            dec = yield from self._test(k)
            if dec == BELOW:
                a = k
            elif dec == ABOVE:
                b = k
            else:
                break
            bisect = (b - a) > width / 2
        return (yield from self._refine(a, b))

    def _refine(self, a: int, b: int) -> Generator[Request, Outcomes, RootResult]:
        """Batches at the current root estimate until the Fieller CI is narrow enough."""
        while True:
            fit = self.fit(a, b)
            root, lo, hi = self.root(fit)
            bounded = math.isfinite(lo) and math.isfinite(hi)
            half = (hi - lo) / 2 if bounded else math.inf
            guess = root if math.isfinite(root) else (self._x(a) + self._x(b)) / 2
            k_star = min(max(self.space.index(guess), a), b)
            k_conf = self._confirmation_point(a, b, guess)
            if half <= self.tol and k_conf is not None:
                break
            have = self._m(k_star)
            n_win = sum(self._m(k) for k in self.errors if a <= k <= b)
            if half <= self.tol:
                want = self.s.confirm_replications
            else:
                need = n_win * ((half / self.tol) ** 2 - 1) if bounded else n_win
                step = int(min(max(need, self.s.batch), max(n_win, self.s.batch)))
                want = have + self.s.batch * math.ceil(step / self.s.batch)
            if not bounded:  # the slope is not established yet: the ends carry it
                for end in (a, b):
                    if self._room(end, self._m(end) + self.s.batch):
                        yield from self._ask(end, self._m(end) + self.s.batch)
            want = min(want, have + self.s.max_replications - self.used)
            if want <= have:
                break  # budget spent
            yield from self._ask(k_star, want)
        if k_conf is None:
            k_conf = k_star if k_star in self.errors else None
        return self._final(fit, root, lo, hi, k_conf)

    def _confirmation_point(self, a: int, b: int, root: float) -> int | None:
        reach = max(self.tol / 2, (self._x(1) - self._x(0)) / 2)
        near = [k for k in self.errors if a <= k <= b
                and self._m(k) >= self.s.confirm_replications and abs(self._x(k) - root) <= reach]
        return min(near, key=lambda k: abs(self._x(k) - root)) if near else None

    def _final(self, fit: LocalFit | None, root: float, lo: float, hi: float,
               k_conf: int | None) -> RootResult:
        if fit is None or not math.isfinite(root):
            spent = self.used + self.s.batch > self.s.max_replications
            return self._result(BUDGET_SPENT if spent else NO_FIT, math.nan, math.nan,
                                math.nan, fit=fit)
        half = (hi - lo) / 2 if math.isfinite(lo) and math.isfinite(hi) else math.inf
        status = OK if half <= self.tol else WIDE_CI
        value = root
        if root < self._x(0):
            status, value, lo = TIPPED_AT_LOWER, self._x(0), math.nan
        elif root > self._x(self.space.size):
            status, value, hi = NEVER_TIPS, math.nan, math.nan
        res = self._result(status, value, lo, hi, fit=fit)
        if k_conf is not None:
            m = self.measures(k_conf)
            res.share_at_value, res.share_mcse = m["rmse"], m["rmse_mcse"]
            res.confirm_replications = self._m(k_conf)
            res.confirm_value = self._x(k_conf)
            if (res.status in (OK, WIDE_CI) and math.isfinite(m["rmse_mcse"])
                    and abs(m["rmse"] - self.max) > CONFIRM_Z * m["rmse_mcse"]):
                res.status = NOT_CONFIRMED
        return res

    def _result(self, status: str, value: float, lo: float, hi: float,
                fit: LocalFit | None = None) -> RootResult:
        below = [k for k, d in self.decision.items() if d == BELOW]
        above = [k for k, d in self.decision.items() if d == ABOVE]
        probes = []
        for k in sorted(self.errors):
            probes.append(Probe(k, self._x(k), self._m(k), 0, self.decision.get(k, "refine"),
                                self.measures(k)["rmse"]))
        return RootResult(
            status=status, value=value, ci_low=lo, ci_high=hi, replications=self.used,
            target=self.max,
            bracket_low=self._x(max(below)) if below else math.nan,
            bracket_high=self._x(min(above)) if above else math.nan,
            fit=fit, probes=probes)
