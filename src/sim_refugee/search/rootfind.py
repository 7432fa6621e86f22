"""Stochastic root finding for a monotone Bernoulli share: the x where P(event | x) = p.

The problem: a family of Monte Carlo experiments indexed by a scalar x (a selection
strength, a sample size...) each produce a 0/1 outcome per replication (the claim holds,
the term is rejected, the interval misses); the share ``s(x) = P(outcome = 1 | x)`` is
assumed to increase with x. Find the root ``theta`` of ``s(theta) = p`` with a
confidence interval, spending as few replications as the requested precision allows.

Why this design (docs/TIPPING.md has the long version):

1. *Ends.* x = lower and x = upper are probed first with a sequential binomial test
   (below). If s(lower) >= p is established, the answer is "already tipped at the lower
   end"; if s(upper) < p, "never tips within the range". No root is invented outside
   the declared range.
2. *Noisy bisection.* Bisection on a fixed grid (``GridSpace``: 2^depth cells; or the
   integers, ``IntegerSpace``), each probe resolved by a sequential test: batches of
   replications until a Clopper-Pearson interval (level Bonferroni-adjusted over the
   looks) excludes p on one side, or the probe's cap is reached ("undecided": s(x) is
   within Monte Carlo noise of p there). Far from the root a probe is decided by its
   first batch, so the replications go where the root is. This is the hard-decision form
   of probabilistic bisection with a power-one test at each query (Waeber, Frazier &
   Henderson 2011, 2013); the decided points bracket the root at a known error rate.
   After the first undecided probe the two outer gaps are bisected until they are
   narrower than twice the tolerance: the bracket [a, b] is the indifference zone
   around the root, with decided ends.
3. *Local estimate.* A probit regression of the outcomes on x within the bracket
   (statsmodels GLM, binomial family, probit link): locally s(x) = Phi(b0 + b1 x). The
   root is (Phi^-1(p) - b0) / b1 and its confidence interval is Fieller's, i.e. the set of
   x where the fitted linear predictor is not significantly different from Phi^-1(p)
   (test inversion; it accounts for the uncertainty of the slope, unlike a delta method).
   Further batches go to the current root estimate (Wu's 1985 sequential design: the
   point of maximum information about the root), growing geometrically until the CI
   half-width is below the tolerance or the budget is spent.
4. *Confirmation.* The grid point at the final root is topped up to
   ``confirm_replications``; the measured share there (with its MCSE) is reported, and
   the answer is flagged ``not_confirmed`` if it is more than 3 MCSE from p.

Randomness: none here. The solver asks for the outcomes of replications ``[0, m)`` at
grid index k (``Request``) and is a deterministic function of the answers, so anyone who
keys replication r at point k to its own seed (``seeds.rng_for(root, ..., k, r)``) gets
bit-identical results whatever runs the replications. Searches are generators (ask/tell),
so many of them (targets x map rows) can be driven in lockstep and their requests
batched onto one parallel backend (``run_searches``); ``solve`` drives a single one with
a plain callable.

Reuse (issue #16, the survey planner): ``solve(oracle, IntegerSpace(n_min, n_max), 0.8,
settings)`` with ``oracle(k, m)`` the rejection outcomes of replications 0..m-1 at
n = n_min + k returns the n at 80% power with its CI.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

import numpy as np
from pydantic import Field, model_validator
from scipy import stats

from sim_refugee.validation import MAX_REPLICATIONS, StrictModel

# Decisions of a probe's sequential test.
BELOW = "below"  # s(x) < p established: the root is above x
ABOVE = "above"  # s(x) >= p established: the root is at or below x
UNDECIDED = "undecided"

# Statuses of a result. ok: CI half-width <= tolerance, share at the value confirmed;
# wide_ci: budget spent before the CI reached the tolerance (value and CI reported);
# not_confirmed: the share measured at the value is > 3 MCSE from p; no_fit: no local
# probit fit (flat or non-monotone data) and budget_spent: the budget ran out before one
# (value NaN, CI = the decided bracket); tipped_at_lower: s >= p already at the lower end
# (value = lower); never_tips: s < p still at the upper end (value NaN, ci_low = upper).
OK = "ok"
WIDE_CI = "wide_ci"
NOT_CONFIRMED = "not_confirmed"
NO_FIT = "no_fit"
BUDGET_SPENT = "budget_spent"
TIPPED_AT_LOWER = "tipped_at_lower"
NEVER_TIPS = "never_tips"
STATUSES: tuple[str, ...] = (OK, WIDE_CI, NOT_CONFIRMED, NO_FIT, BUDGET_SPENT, TIPPED_AT_LOWER,
                             NEVER_TIPS)

#: A confirmation share further than this many MCSEs from p flags the local model.
CONFIRM_Z = 3.0


class SolverSettings(StrictModel):
    """Replications and precision of one root search ([tipping.solver] in a config).

    batch: replications per look of a probe's sequential test (and the smallest
    refinement step); max_probe_replications: cap of a probe in the bisection phase;
    alpha_probe: error rate of each probe's decision (split over its looks);
    ci_level: level of the root's confidence interval; tolerance: the CI half-width to
    reach, in the parameter's units (default: (upper - lower) / 100);
    max_replications: budget of one search (one target, one map row), all probes
    included; confirm_replications: replications at the reported value;
    depth: the search grid has 2^depth cells (continuous parameters).
    """

    batch: int = Field(default=20, ge=2, le=MAX_REPLICATIONS)
    max_probe_replications: int = Field(default=200, ge=2, le=MAX_REPLICATIONS)
    alpha_probe: float = Field(default=0.01, gt=0, lt=0.5)
    ci_level: float = Field(default=0.95, ge=0.5, lt=1)
    tolerance: float | None = Field(default=None, gt=0)
    max_replications: int = Field(default=5000, ge=2, le=MAX_REPLICATIONS)
    confirm_replications: int = Field(default=200, ge=0, le=MAX_REPLICATIONS)
    depth: int = Field(default=10, ge=1, le=20)

    @model_validator(mode="after")
    def _consistent(self) -> SolverSettings:
        if self.max_probe_replications < self.batch:
            raise ValueError("max_probe_replications must be >= batch")
        if self.max_replications < 2 * self.batch:
            raise ValueError("max_replications must be >= 2 * batch (both ends are probed)")
        return self


class Space(Protocol):
    """The search grid: indices 0..size, each with a parameter value (increasing)."""

    size: int
    integer: bool

    def value(self, k: int) -> float: ...
    def index(self, x: float) -> int: ...


@dataclass(frozen=True)
class GridSpace:
    """[lower, upper] cut into 2^depth equal cells: index k is lower + k (upper-lower)/2^depth."""

    lower: float
    upper: float
    depth: int = 10
    integer: bool = False

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lower) and math.isfinite(self.upper)) or self.upper <= self.lower:
            raise ValueError(f"need finite lower < upper, got [{self.lower}, {self.upper}]")

    @property
    def size(self) -> int:
        return 2**self.depth

    def value(self, k: int) -> float:
        return self.lower + (self.upper - self.lower) * k / self.size

    def index(self, x: float) -> int:
        k = round((x - self.lower) / (self.upper - self.lower) * self.size)
        return int(min(max(k, 0), self.size))


@dataclass(frozen=True)
class IntegerSpace:
    """The integers lower..upper (a sample size, a count): index k is lower + k."""

    lower: int
    upper: int
    integer: bool = True

    def __post_init__(self) -> None:
        if self.upper <= self.lower:
            raise ValueError(f"need lower < upper, got [{self.lower}, {self.upper}]")

    @property
    def size(self) -> int:
        return self.upper - self.lower

    def value(self, k: int) -> float:
        return float(self.lower + k)

    def index(self, x: float) -> int:
        return int(min(max(round(x - self.lower), 0), self.size))


@dataclass(frozen=True)
class Request:
    """Outcomes wanted: replications [0, m) at grid index k (cumulative per point)."""

    k: int
    m: int


@dataclass(frozen=True)
class LocalFit:
    """Probit fit Phi(b0 + b1 (x - center) / scale) within the bracket."""

    b0: float
    b1: float
    cov: np.ndarray  # 2 x 2
    center: float
    scale: float

    def share(self, x: np.ndarray | float) -> np.ndarray:
        return stats.norm.cdf(self.b0 + self.b1 * (np.asarray(x, float) - self.center) / self.scale)


class Probe(NamedTuple):
    """One probed grid point: index, value, replications, events, test decision (and
    for an RMSE search, ``search.rmse``, the RMSE measured there; events is then 0)."""

    k: int
    x: float
    m: int
    events: int
    decision: str  # below / above / undecided (bisection) or "refine"
    measure: float = math.nan  # a continuous search's measure there (RMSE); NaN for shares


@dataclass
class RootResult:
    """The answer of one search (see ``STATUSES``; value/CI conventions in TIPPING.md).

    value: the root (NaN if never tips or no fit; the lower end if already tipped there);
    ci_low/ci_high: its confidence interval (NaN where unbounded or unknown);
    replications: outcomes used (all probes); bracket_low/high: the decided bisection
    points around the root (NaN when the side is not decided); share_at_value,
    share_mcse, confirm_replications: the confirmation measurement.
    """

    status: str
    value: float
    ci_low: float
    ci_high: float
    replications: int
    target: float
    bracket_low: float = math.nan
    bracket_high: float = math.nan
    share_at_value: float = math.nan
    share_mcse: float = math.nan
    confirm_replications: int = 0
    confirm_value: float = math.nan
    fit: LocalFit | None = None
    probes: list[Probe] = field(default_factory=list)


def clopper_pearson(events: int, m: int, level: float) -> tuple[float, float]:
    """Exact two-sided binomial interval (scipy's beta quantiles)."""
    a = 1.0 - level
    lo = 0.0 if events == 0 else float(stats.beta.ppf(a / 2, events, m - events + 1))
    hi = 1.0 if events == m else float(stats.beta.ppf(1 - a / 2, events + 1, m - events))
    return lo, hi


def fit_local_probit(x: np.ndarray, events: np.ndarray, m: np.ndarray) -> LocalFit | None:
    """ML probit of events/m on x (statsmodels GLM); None if not identified (fewer than
    two points, separation, a non-finite or singular fit)."""
    import statsmodels.api as sm

    x, events, m = (np.asarray(v, float) for v in (x, events, m))
    keep = m > 0
    x, events, m = x[keep], events[keep], m[keep]
    if len(np.unique(x)) < 2 or events.sum() in (0, m.sum()):
        return None
    center = float((x.min() + x.max()) / 2)
    scale = float((x.max() - x.min()) / 2)
    u = (x - center) / scale
    X = np.column_stack([np.ones_like(u), u])
    family = sm.families.Binomial(link=sm.families.links.Probit())
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # separation / convergence warnings: no fit
            res = sm.GLM(np.column_stack([events, m - events]), X, family=family).fit()
            cov = np.asarray(res.cov_params(), float)
    except (Warning, ValueError, np.linalg.LinAlgError, FloatingPointError):
        return None
    b = np.asarray(res.params, float)
    if not (np.all(np.isfinite(b)) and np.all(np.isfinite(cov))) or abs(b[1]) > 50:
        return None
    return LocalFit(float(b[0]), float(b[1]), cov, center, scale)


def fieller_interval(b0: float, b1: float, cov: np.ndarray, c: float, level: float
                     ) -> tuple[float, float, float]:
    """Root u of the linear predictor b0 + b1 u = c (b1 > 0) and its Fieller interval
    {u : (b0 + b1 u - c)^2 <= z^2 Var(b0 + b1 u)}, with cov the 2 x 2 covariance of
    (b0, b1). Bounded only when the slope is significantly positive; otherwise NaN
    bounds. Shared by the probit root (``fieller_root``) and the RMSE root
    (``search.rmse``: MSE = a + v / x is linear in u = 1 / x)."""
    z = float(stats.norm.ppf(0.5 + level / 2))
    v00, v01, v11 = cov[0, 0], cov[0, 1], cov[1, 1]
    root_u = (c - b0) / b1 if b1 > 0 else math.nan
    A = b1**2 - z**2 * v11
    B = 2 * (b1 * (b0 - c) - z**2 * v01)
    C = (b0 - c) ** 2 - z**2 * v00
    disc = B**2 - 4 * A * C
    if b1 <= 0 or A <= 0 or disc < 0:
        return root_u, math.nan, math.nan
    r = math.sqrt(disc)
    return root_u, (-B - r) / (2 * A), (-B + r) / (2 * A)


def fieller_root(fit: LocalFit, p: float, level: float) -> tuple[float, float, float]:
    """Root of Phi(b0 + b1 u) = p and its Fieller interval, in x units.

    The interval is {x : (b0 + b1 u - c)^2 <= z^2 Var(b0 + b1 u)}, c = Phi^-1(p): bounded
    only when the slope is significantly positive; otherwise (-inf, inf) is returned
    as NaN bounds.
    """
    root_u, lo_u, hi_u = fieller_interval(fit.b0, fit.b1, fit.cov, float(stats.norm.ppf(p)),
                                          level)

    def to_x(u: float) -> float:
        return fit.center + fit.scale * u

    return to_x(root_u), to_x(lo_u), to_x(hi_u)


Outcomes = np.ndarray  # 0/1 floats, one per replication [0, m)


class RootSearch:
    """One stochastic root search; ``run()`` is a generator: it yields ``Request``s and
    is sent each request's outcomes (an array of m zeros and ones); it returns a
    ``RootResult`` (in ``StopIteration.value``)."""

    def __init__(self, space: Space, p: float, settings: SolverSettings | None = None) -> None:
        if not 0 < p < 1:
            raise ValueError(f"target share must be in (0, 1), got {p}")
        self.space = space
        self.p = float(p)
        self.s = settings or SolverSettings()
        self.tol = self.s.tolerance or (space.value(space.size) - space.value(0)) / 100
        self.m: dict[int, int] = {}
        self.events: dict[int, int] = {}
        self.decision: dict[int, str] = {}

    # -- bookkeeping --------------------------------------------------------------------
    @property
    def used(self) -> int:
        return sum(self.m.values())

    def _room(self, k: int, m_new: int) -> bool:
        return self.used - self.m.get(k, 0) + m_new <= self.s.max_replications

    def _ask(self, k: int, m_new: int) -> Generator[Request, Outcomes, None]:
        out = yield Request(k, m_new)
        out = np.asarray(out, float)
        if out.shape != (m_new,) or not np.all((out == 0) | (out == 1)):
            raise ValueError(f"oracle must return {m_new} zeros/ones for point {k}")
        self.m[k] = m_new
        self.events[k] = int(out.sum())

    def _test(self, k: int) -> Generator[Request, Outcomes, str]:
        """Sequential binomial test of s(x_k) against p (Bonferroni over the looks)."""
        looks = math.ceil(self.s.max_probe_replications / self.s.batch)
        level = 1.0 - self.s.alpha_probe / looks
        while True:
            have = self.m.get(k, 0)
            if have >= self.s.max_probe_replications:
                break
            nxt = min(have + self.s.batch, self.s.max_probe_replications)
            if not self._room(k, nxt):
                break
            yield from self._ask(k, nxt)
            lo, hi = clopper_pearson(self.events[k], self.m[k], level)
            if lo > self.p:
                self.decision[k] = ABOVE
                return ABOVE
            if hi < self.p:
                self.decision[k] = BELOW
                return BELOW
        self.decision[k] = UNDECIDED
        return UNDECIDED

    def _x(self, k: int) -> float:
        return self.space.value(k)

    # -- the search ---------------------------------------------------------------------
    def run(self) -> Generator[Request, Outcomes, RootResult]:
        K = self.space.size
        lo_dec = yield from self._test(0)
        hi_dec = yield from self._test(K)
        if lo_dec == ABOVE:
            return self._result(TIPPED_AT_LOWER, self._x(0), math.nan, self._x(0))
        if hi_dec == BELOW:
            return self._result(NEVER_TIPS, math.nan, self._x(K), math.nan)

        # bisection with sequential tests
        while True:
            a = max((k for k, d in self.decision.items() if d == BELOW), default=0)
            b = min((k for k, d in self.decision.items() if d == ABOVE), default=K)
            und = sorted(k for k, d in self.decision.items() if d == UNDECIDED and a < k < b)
            gaps = [(a, b)] if not und else [(a, und[0]), (und[-1], b)]
            gaps = [(i, j) for i, j in gaps
                    if j - i > 1 and self._x(j) - self._x(i) > 2 * self.tol]
            if not gaps:
                break
            i, j = max(gaps, key=lambda g: g[1] - g[0])
            mid = (i + j) // 2
            if not self._room(mid, self.s.batch):
                break
            yield from self._test(mid)
        return (yield from self._refine(a, b))

    def _window(self, a: int, b: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ks = sorted(k for k in self.m if a <= k <= b)
        return (np.array([self._x(k) for k in ks]), np.array([self.events[k] for k in ks]),
                np.array([self.m[k] for k in ks]))

    def _interpolated(self, a: int, b: int) -> float:
        """Where the empirical shares in the bracket cross p (linear interpolation)."""
        x, e, m = self._window(a, b)
        s = e / m
        for i in range(len(x) - 1):
            if (s[i] - self.p) * (s[i + 1] - self.p) <= 0 and s[i] != s[i + 1]:
                return float(x[i] + (self.p - s[i]) * (x[i + 1] - x[i]) / (s[i + 1] - s[i]))
        return float((self._x(a) + self._x(b)) / 2)

    def _refine(self, a: int, b: int) -> Generator[Request, Outcomes, RootResult]:
        """Batches at the current root estimate until the Fieller CI is narrow enough."""
        level = self.s.ci_level
        while True:
            x, e, m = self._window(a, b)
            fit = fit_local_probit(x, e, m)
            root, lo, hi = fieller_root(fit, self.p, level) if fit else (math.nan,) * 3
            bounded = math.isfinite(lo) and math.isfinite(hi)
            half = (hi - lo) / 2 if bounded else math.inf
            guess = root if math.isfinite(root) else self._interpolated(a, b)
            k_star = min(max(self.space.index(guess), a), b)
            k_conf = self._confirmation_point(a, b, guess)
            if half <= self.tol and k_conf is not None:
                break
            have = self.m.get(k_star, 0)
            if half <= self.tol:
                want = self.s.confirm_replications
            else:
                n_win = int(m.sum())
                need = n_win * ((half / self.tol) ** 2 - 1) if bounded else n_win
                step = int(min(max(need, self.s.batch), max(n_win, self.s.batch)))
                want = have + self.s.batch * math.ceil(step / self.s.batch)
            if fit is not None and not bounded:
                # the slope is not significant yet: the bracket ends carry the slope
                for end in (a, b):
                    if self._room(end, self.m[end] + self.s.batch):
                        yield from self._ask(end, self.m[end] + self.s.batch)
            want = min(want, have + self.s.max_replications - self.used)
            if want <= have:
                break  # budget spent
            yield from self._ask(k_star, want)
        if k_conf is None:  # budget spent before a confirmation: the nearest point
            k_conf = k_star if k_star in self.m else None
        return self._final(a, b, fit, root, lo, hi, k_conf)

    def _confirmation_point(self, a: int, b: int, root: float) -> int | None:
        """A probed point within tolerance/2 (or half a grid cell) of the root with at
        least confirm_replications."""
        reach = max(self.tol / 2, (self._x(1) - self._x(0)) / 2)
        near = [k for k in self.m if a <= k <= b and self.m[k] >= self.s.confirm_replications
                and abs(self._x(k) - root) <= reach]
        return min(near, key=lambda k: abs(self._x(k) - root)) if near else None

    def _final(self, a: int, b: int, fit: LocalFit | None, root: float, lo: float, hi: float,
               k_conf: int | None) -> RootResult:
        if fit is None or not math.isfinite(root):
            bl = self._x(a) if self.decision.get(a) == BELOW else math.nan
            bh = self._x(b) if self.decision.get(b) == ABOVE else math.nan
            spent = self.used + self.s.batch > self.s.max_replications
            return self._result(BUDGET_SPENT if spent else NO_FIT, math.nan, bl, bh, fit=fit)
        K = self.space.size
        half = (hi - lo) / 2 if math.isfinite(lo) and math.isfinite(hi) else math.inf
        status = OK if half <= self.tol else WIDE_CI
        m_c = self.m.get(k_conf, 0) if k_conf is not None else 0
        e_c = self.events.get(k_conf, 0) if k_conf is not None else 0
        share = e_c / m_c if m_c else math.nan
        mcse = math.sqrt(share * (1 - share) / m_c) if m_c else math.nan
        if m_c and abs(share - self.p) > CONFIRM_Z * math.sqrt(self.p * (1 - self.p) / m_c):
            status = NOT_CONFIRMED
        value = root
        if root < self._x(0):  # the local fit puts the root below the range
            status, value, lo = TIPPED_AT_LOWER, self._x(0), math.nan
        elif root > self._x(K):
            status, value, hi = NEVER_TIPS, math.nan, math.nan
        res = self._result(status, value, lo, hi, fit=fit)
        res.share_at_value, res.share_mcse = share, mcse
        res.confirm_replications = m_c
        res.confirm_value = self._x(k_conf) if k_conf is not None else math.nan
        return res

    def _result(self, status: str, value: float, lo: float, hi: float,
                fit: LocalFit | None = None) -> RootResult:
        below = [k for k, d in self.decision.items() if d == BELOW]
        above = [k for k, d in self.decision.items() if d == ABOVE]
        return RootResult(
            status=status, value=value, ci_low=lo, ci_high=hi, replications=self.used,
            target=self.p,
            bracket_low=self._x(max(below)) if below else math.nan,
            bracket_high=self._x(min(above)) if above else math.nan,
            fit=fit,
            probes=[Probe(k, self._x(k), self.m[k], self.events[k],
                          self.decision.get(k, "refine")) for k in sorted(self.m)],
        )


#: ``evaluate(requests)``: for each (search index, Request), the outcomes of
#: replications [0, m) at that point, in the same order.
Evaluate = Callable[[list[tuple[int, Request]]], list[Outcomes]]


class Search(Protocol):
    """What ``run_searches`` drives: ``RootSearch`` (a share) or ``rmse.RmseSearch``."""

    def run(self) -> Generator[Request, Outcomes, RootResult]: ...


def run_searches(searches: Sequence[Search], evaluate: Evaluate,
                 on_done: Callable[[int, RootResult], None] | None = None) -> list[RootResult]:
    """Drive several searches in lockstep: each round gathers every active search's next
    request and evaluates them together (so a parallel backend sees them as one batch).
    ``on_done(i, result)`` is called as search i finishes. Any ``Search`` works (the
    outcomes sent are whatever ``evaluate`` returns: 0/1 for a share, errors for RMSE)."""
    gens = [s.run() for s in searches]
    results: list[RootResult | None] = [None] * len(gens)
    pending: dict[int, Request] = {}
    for i, g in enumerate(gens):
        try:
            pending[i] = next(g)
        except StopIteration as stop:
            results[i] = stop.value
            if on_done is not None:
                on_done(i, stop.value)
    while pending:
        items = sorted(pending.items())
        outs = evaluate(items)
        for (i, _), out in zip(items, outs, strict=True):
            try:
                pending[i] = gens[i].send(out)
            except StopIteration as stop:
                results[i] = stop.value
                del pending[i]
                if on_done is not None:
                    on_done(i, stop.value)
    return [r for r in results if r is not None]


def solve(oracle: Callable[[int, int], Outcomes], space: Space, p: float,
          settings: SolverSettings | None = None) -> RootResult:
    """The root of s(x) = p on ``space``; ``oracle(k, m)`` returns the 0/1 outcomes of
    replications 0..m-1 at grid index k (it must return the same first values when asked
    again with a larger m: key replication r at point k to its own seed)."""
    return run_searches([RootSearch(space, p, settings)],
                        lambda items: [oracle(req.k, req.m) for _, req in items])[0]
