"""The result of a recovery study: Morris-White-Crowther measures with MCSEs, and assertions.

A :class:`Recovery` holds the replicates (one row per replication, one column per term)
and the truth. Its measures come from ``sim_refugee.diagnosis.measures.term_measures``
(one implementation of the MCSE formulas for the whole project) on the "successes"
basis: a replication whose estimate or SE for a term is not finite, or that raised,
counts as a failure of that term and is left out of that term's measures.

Each ``assert_*`` method bounds a measure by ``z`` Monte Carlo SEs (plus an optional
fixed tolerance), returns the result (so checks chain) and raises ``AssertionError``
naming the measure, its value, its MCSE, the bound and the seed. With several terms the
bound is per term unless ``adjust="bonferroni"`` or ``"holm"``: then ``z`` fixes the
family-wise level ``sides * P(N(0,1) > z)`` (0.0027 for z = 3, two-sided) and the
per-term bounds grow with the number of terms.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.stats import norm

from sim_refugee.diagnosis.measures import TERM_MEASURES, term_measures
from sim_refugee.seeds import child_rng, seed_sequence

REP_KEY = "recovery"
"""Replication ``r`` of ``recovery(..., seed=s)`` draws from ``rng_for(s, REP_KEY, r)``."""

MEASURES: tuple[str, ...] = (
    "n_ok", "failure_rate", "mean_estimate", "bias", "emp_se", "mod_se", "se_ratio",
    "coverage", "rmse", "rejection_rate",
)
_DIAGNOSIS_NAME = {"n_ok": "n_sim", "rejection_rate": "power"}
_NEEDS_SE = ("mod_se", "se_ratio", "coverage", "rejection_rate")
Adjust = Literal["bonferroni", "holm"] | None
Direction = Literal["both", "upper", "lower"]


def names_values(x: Any, what: str) -> tuple[list[str] | None, np.ndarray]:
    """A scalar, 1-d array or Series as (names or None, float vector)."""
    if isinstance(x, Mapping):
        x = pd.Series(dict(x), dtype=float)
    if isinstance(x, pd.Series):
        return [str(i) for i in x.index], x.to_numpy(dtype=float)
    v = np.asarray(x, dtype=float)
    if v.ndim > 1:
        raise ValueError(f"{what} must be a scalar, a 1-d array or a Series, got shape {v.shape}")
    return None, v.reshape(-1)


def as_terms(x: Any, terms: list[str], what: str) -> pd.Series:
    """``x`` (scalar, vector or named) as a float Series over ``terms``."""
    names, v = names_values(x, what)
    if names is not None:
        s = pd.Series(v, index=names)
        missing = [t for t in terms if t not in s.index]
        if missing:
            raise ValueError(f"{what} has no value for terms {missing}")
        return s.reindex(terms)
    if v.size == 1:
        return pd.Series(np.repeat(v, len(terms)), index=terms)
    if v.size != len(terms):
        raise ValueError(f"{what} has {v.size} values for {len(terms)} terms")
    return pd.Series(v, index=terms)


def default_terms(k: int) -> list[str]:
    """Term names when neither the truth nor the estimates name them."""
    return ["theta"] if k == 1 else [f"theta[{i}]" for i in range(k)]


def seed_text(seed: Any) -> str:
    """A seed as the user would type it to reproduce a run."""
    if isinstance(seed, np.random.SeedSequence):
        return f"SeedSequence(entropy={seed.entropy}, spawn_key={tuple(seed.spawn_key)})"
    return "not recorded" if seed is None else repr(seed)


def root_sequence(seed: Any) -> np.random.SeedSequence:
    """The SeedSequence under which replication r is sub-stream (REP_KEY, r)."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be a non-negative int or a SeedSequence, got {seed!r}")
    return seed_sequence(int(seed))


def bounds(stat: np.ndarray, z: float, sides: int, adjust: Adjust) -> tuple[np.ndarray, np.ndarray]:
    """Per-term bounds (in MCSE units) and which terms fail.

    ``stat``: distance beyond the allowed region in MCSE units (NaN: not computable, fails).
    Unadjusted, the bound is ``z``. Adjusted, ``z`` fixes the family level
    ``a = sides * sf(z)``: Bonferroni bounds every term at ``isf(a / (k sides))``; Holm
    steps down, the j-th largest statistic (j = 0, 1, ...) against ``isf(a / ((k - j)
    sides))`` until one passes. Both fail the family on the same runs (Holm only names
    more failing terms).
    """
    k = len(stat)
    failed = ~(stat <= z)  # NaN fails
    if adjust is None or k <= 1:
        return np.full(k, float(z)), failed
    a = sides * norm.sf(z)
    if adjust == "bonferroni":
        b = float(norm.isf(a / (k * sides)))
        return np.full(k, b), ~(stat <= b)
    if adjust != "holm":
        raise ValueError(f"adjust must be None, 'bonferroni' or 'holm', got {adjust!r}")
    s = np.where(np.isnan(stat), np.inf, stat)
    order = np.argsort(-s, kind="stable")
    bnd = np.empty(k)
    failed = np.zeros(k, bool)
    going = True
    for j, i in enumerate(order):
        bnd[i] = norm.isf(a / ((k - j) * sides))
        going = going and bool(s[i] > bnd[i])
        failed[i] = going
    return bnd, failed


@dataclass(frozen=True, eq=False)
class Recovery:
    """Replicates of an estimator against a known truth, with measures and assertions.

    ``estimates`` and ``ses``: one row per replication, one column per term (NaN where a
    replication failed); ``ses`` is None when the estimator gives no SE. ``seed``: what
    reproduces the run (an int or SeedSequence for ``recovery``). ``alpha``: level of
    the intervals behind ``coverage`` and of the Wald test of ``null`` behind
    ``rejection_rate``. ``errors``: replication -> message of what it raised.
    ``extra``: named scalars the estimator returned besides (estimate, se).
    """

    estimates: pd.DataFrame
    ses: pd.DataFrame | None
    truth: pd.Series
    seed: Any = None
    alpha: float = 0.05
    null: pd.Series | float = 0.0
    errors: dict[int, str] = field(default_factory=dict)
    extra: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha must be in (0, 1), got {self.alpha}")
        terms = list(self.estimates.columns)
        if list(self.truth.index) != terms:
            raise ValueError("truth must be indexed by the estimate columns")
        if self.ses is not None and (list(self.ses.columns) != terms
                                     or self.ses.shape != self.estimates.shape):
            raise ValueError("ses must have the shape and columns of estimates")
        object.__setattr__(self, "null", as_terms(self.null, terms, "null"))

    # --- construction ------------------------------------------------------------------
    @classmethod
    def from_arrays(
        cls, estimates: Any, ses: Any, truth: Any, *, seed: Any = None, alpha: float = 0.05,
        null: Any = 0.0,
    ) -> Recovery:
        """A result from replicates computed elsewhere: (reps,) or (reps, terms) arrays or
        DataFrames (columns name the terms); ``ses`` may be None; NaN marks a failure."""
        est = _frame(estimates, "estimates")
        if not isinstance(estimates, pd.DataFrame):
            names = names_values(truth, "truth")[0]
            est.columns = names if names is not None else default_terms(est.shape[1])
        se = None
        if ses is not None:
            se = _frame(ses, "ses")
            if se.shape != est.shape:
                raise ValueError(f"ses has shape {se.shape}, estimates {est.shape}")
            if isinstance(ses, pd.DataFrame):
                se = se[list(est.columns)]
            se.columns = est.columns
            se.index = est.index
        terms = list(est.columns)
        return cls(est, se, as_terms(truth, terms, "truth"), seed=seed, alpha=alpha, null=null)

    # --- shape -------------------------------------------------------------------------
    @property
    def reps(self) -> int:
        """Number of replications run."""
        return len(self.estimates)

    @property
    def terms(self) -> list[str]:
        """Term names (columns of ``estimates``)."""
        return list(self.estimates.columns)

    def rng(self, r: int) -> np.random.Generator:
        """The Generator replication ``r`` drew from (to rerun one replication by hand)."""
        return child_rng(root_sequence(self.seed), REP_KEY, r)

    # --- measures ----------------------------------------------------------------------
    def _compute(self, alpha: float) -> tuple[pd.DataFrame, pd.DataFrame]:
        est = self.estimates.to_numpy(dtype=float).T
        has_se = self.ses is not None
        se = self.ses.to_numpy(dtype=float).T if has_se else np.ones_like(est)
        theta = np.broadcast_to(self.truth.to_numpy(dtype=float)[:, None], est.shape)
        null = self.null.to_numpy(dtype=float)[:, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            pval = 2 * norm.sf(np.abs(est - null) / se)
        ok = np.isfinite(est) & np.isfinite(se)
        use = np.ones(est.shape, bool)
        v, m = term_measures(est, se, pval, theta, use, ok, "successes", alpha=alpha)
        cols = [TERM_MEASURES.index(_DIAGNOSIS_NAME.get(k, k)) for k in MEASURES]
        values = pd.DataFrame(v[:, cols], index=self.terms, columns=list(MEASURES))
        mcse = pd.DataFrame(m[:, cols], index=self.terms, columns=list(MEASURES))
        if not has_se:
            values[list(_NEEDS_SE)] = np.nan
            mcse[list(_NEEDS_SE)] = np.nan
        return values, mcse

    @cached_property
    def _tables(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        return self._compute(self.alpha)

    @property
    def measures(self) -> pd.DataFrame:
        """One row per term: n_ok, failure_rate, mean_estimate, bias, emp_se, mod_se,
        se_ratio, coverage (of est +/- z(1 - alpha/2) se), rmse, rejection_rate."""
        return self._tables[0].copy()

    @property
    def mcse(self) -> pd.DataFrame:
        """Monte Carlo SEs of ``measures`` (Morris, White & Crowther 2019, Table 6)."""
        return self._tables[1].copy()

    @property
    def bias(self) -> pd.Series:
        """Mean of estimate - truth over successful replications."""
        return self._tables[0]["bias"].copy()

    @property
    def emp_se(self) -> pd.Series:
        """Standard deviation of the estimates."""
        return self._tables[0]["emp_se"].copy()

    @property
    def mod_se(self) -> pd.Series:
        """Root mean square of the estimator's own SEs."""
        return self._tables[0]["mod_se"].copy()

    @property
    def coverage(self) -> pd.Series:
        """Share of replications whose 1 - alpha Wald interval covers the truth."""
        return self._tables[0]["coverage"].copy()

    @property
    def rmse(self) -> pd.Series:
        """Root mean squared error."""
        return self._tables[0]["rmse"].copy()

    @property
    def rejection_rate(self) -> pd.Series:
        """Share of replications whose Wald test rejects ``null`` at level alpha."""
        return self._tables[0]["rejection_rate"].copy()

    @property
    def failure_rate(self) -> pd.Series:
        """Share of replications without a finite estimate and SE (raised ones included)."""
        return self._tables[0]["failure_rate"].copy()

    def summary(self) -> str:
        """The measures as 'value (MCSE)', one row per term, and the seed."""
        v, m = self._tables
        cells = v.apply(lambda c: c.map(lambda x: f"{x:.4g}")) + m.apply(
            lambda c: c.map(lambda x: "" if not np.isfinite(x) or x == 0 else f" ({x:.2g})"))
        cells["n_ok"] = v["n_ok"].astype(int).astype(str)
        head = (f"Recovery: {self.reps} replications, {len(self.errors)} raised, "
                f"seed {seed_text(self.seed)}, alpha {self.alpha}")
        return head + "\n" + cells.to_string()

    def __repr__(self) -> str:
        return (f"Recovery(terms={self.terms}, reps={self.reps}, seed={seed_text(self.seed)}, "
                f"failures={len(self.errors)} raised)")

    # --- assertions ----------------------------------------------------------------------
    def assert_unbiased(
        self, z: float = 3.0, *, tol: float = 0.0, terms: Sequence[str] | str | None = None,
        adjust: Adjust = None,
    ) -> Recovery:
        """Fail when |bias| > tol + bound x MCSE(bias) (bound = z unless adjusted).

        ``tol``: a known allowance (e.g. an O(1/n) small-sample bias), in the estimate's units.
        """
        v, m = self._tables
        return self._check("assert_unbiased", "bias", v["bias"], m["bias"], "", target=0.0,
                           tol=tol, direction="both", z=z, terms=terms, adjust=adjust)

    def assert_coverage(
        self, level: float = 0.95, z: float = 3.0, *, allow_conservative: bool = False,
        terms: Sequence[str] | str | None = None, adjust: Adjust = None,
    ) -> Recovery:
        """Fail when the coverage of est +/- z(1 - (1-level)/2) se is more than bound x MCSE
        from ``level``; the MCSE is the binomial one at the nominal level,
        sqrt(level (1 - level) / n_ok). ``allow_conservative``: only under-coverage fails."""
        if not 0 < level < 1:
            raise ValueError(f"level must be in (0, 1), got {level}")
        self._require_se("assert_coverage")
        v = self._tables[0] if np.isclose(level, 1 - self.alpha) else self._compute(1 - level)[0]
        mc = np.sqrt(level * (1 - level) / v["n_ok"])
        return self._check(
            "assert_coverage", "coverage", v["coverage"], mc,
            f" ({level:.0%} intervals; MCSE at the nominal level)", target=level, tol=0.0,
            direction="lower" if allow_conservative else "both", z=z, terms=terms, adjust=adjust)

    def assert_se_calibrated(
        self, ratio_tol: float = 0.0, z: float = 3.0, *,
        terms: Sequence[str] | str | None = None, adjust: Adjust = None,
    ) -> Recovery:
        """Fail when |mod_se / emp_se - 1| > ratio_tol + bound x MCSE, the MCSE of the
        ratio at ratio 1, sqrt(var(se^2) / (4 n mod_se^4) + 1 / (2 (n - 1))) (Morris et
        al.'s, divided by the ratio; about 1 / sqrt(2 n)).

        ``ratio_tol``: an allowance for a known approximation of the SE (e.g. 0.1 for a
        delta-method SE that is good to 10%)."""
        self._require_se("assert_se_calibrated")
        v, m = self._tables
        with np.errstate(invalid="ignore", divide="ignore"):
            mc = m["se_ratio"] / v["se_ratio"]
        return self._check("assert_se_calibrated", "se_ratio", v["se_ratio"], mc,
                           " (mod_se / emp_se; MCSE at ratio 1)", target=1.0, tol=ratio_tol,
                           direction="both", z=z, terms=terms, adjust=adjust)

    def assert_rejection_rate(
        self, at_most: float | None = None, z: float = 3.0, *, at_least: float | None = None,
        terms: Sequence[str] | str | None = None, adjust: Adjust = None,
    ) -> Recovery:
        """Fail when the Wald test of ``null`` at level alpha rejects more often than
        ``at_most`` (its size, when truth == null) or less often than ``at_least`` (its
        power), by more than bound x the binomial MCSE at that rate. Neither given:
        ``at_most = alpha``."""
        self._require_se("assert_rejection_rate")
        if at_most is None and at_least is None:
            at_most = self.alpha
        v = self._tables[0]
        for rate, direction in ((at_most, "upper"), (at_least, "lower")):
            if rate is None:
                continue
            if not 0 <= rate <= 1:
                raise ValueError(f"rejection rates must be in [0, 1], got {rate}")
            mc = np.sqrt(rate * (1 - rate) / v["n_ok"])
            self._check("assert_rejection_rate", "rejection_rate", v["rejection_rate"], mc,
                        f" (Wald test of the null at alpha={self.alpha}; binomial MCSE at "
                        f"{rate:g})", target=rate, tol=0.0, direction=direction, z=z,
                        terms=terms, adjust=adjust)
        return self

    def assert_failure_rate(
        self, at_most: float = 0.0, *, terms: Sequence[str] | str | None = None,
    ) -> Recovery:
        """Fail when the observed share of failed replications exceeds ``at_most`` (a count,
        not a Monte Carlo test)."""
        sel = self._select(terms)
        fr = self._tables[0].loc[sel, "failure_rate"]
        bad = fr[fr > at_most]
        if len(bad):
            lines = [f"  failure_rate of {t!r} = {r:.4g} ({round(r * self.reps)} of "
                     f"{self.reps} replications) > {at_most:g}" for t, r in bad.items()]
            raise AssertionError(self._message(
                f"assert_failure_rate: {len(bad)} of {len(sel)} term(s) failed", lines))
        return self

    # --- machinery ---------------------------------------------------------------------------
    def _require_se(self, method: str) -> None:
        if self.ses is None:
            raise AssertionError(self._message(
                f"{method}: the estimator returned no standard errors", []))

    def _select(self, terms: Sequence[str] | str | None) -> list[str]:
        if terms is None:
            return self.terms
        sel = [terms] if isinstance(terms, str) else list(terms)
        unknown = [t for t in sel if t not in self.terms]
        if unknown:
            raise KeyError(f"unknown terms {unknown}; the terms are {self.terms}")
        return sel

    def _check(
        self, method: str, measure: str, value: pd.Series, mcse: pd.Series, note: str, *,
        target: float, tol: float, direction: Direction, z: float,
        terms: Sequence[str] | str | None, adjust: Adjust,
    ) -> Recovery:
        if z <= 0 or tol < 0:
            raise ValueError(f"z must be positive and tol non-negative, got z={z}, tol={tol}")
        sel = self._select(terms)
        val = value[sel].to_numpy(dtype=float)
        mc = np.asarray(mcse[sel], dtype=float)
        n_ok = self._tables[0].loc[sel, "n_ok"].to_numpy()
        dev = {"both": np.abs(val - target), "upper": val - target, "lower": target - val}
        excess = dev[direction] - tol
        with np.errstate(invalid="ignore", divide="ignore"):
            stat = np.where(excess <= 0, 0.0, excess / mc)
        stat = np.where((n_ok < 2) | np.isnan(val), np.nan, stat)
        sides = 2 if direction == "both" else 1
        bnd, failed = bounds(stat, z, sides, adjust)
        if not failed.any():
            return self
        sym = {"both": f"|{measure} - {target:g}|", "upper": f"{measure} - {target:g}",
               "lower": f"{target:g} - {measure}"}[direction]
        if tol:
            sym += f" - {tol:g}"
        lines = []
        for i in np.flatnonzero(failed):
            t = sel[i]
            if np.isnan(stat[i]):
                lines.append(f"  {measure} of {t!r}: not computable from {int(n_ok[i])} "
                             "successful replication(s)")
                continue
            half = tol + bnd[i] * mc[i]
            allowed = {"both": f"{target - half:.6g} to {target + half:.6g}",
                       "upper": f"at most {target + half:.6g}",
                       "lower": f"at least {target - half:.6g}"}[direction]
            lines.append(
                f"  {measure} of {t!r} = {val[i]:.6g}, MCSE {mc[i]:.3g}{note}: {sym} = "
                f"{stat[i]:.3g} MCSE > bound {bnd[i]:.3g} MCSE (allowed: {allowed}; "
                f"{int(n_ok[i])} successful replications)")
        k = len(sel)
        how = ("no multiple-testing adjustment" if adjust is None or k == 1 else
               f"{adjust.capitalize()} over {k} terms at family level "
               f"{sides * norm.sf(z):.3g}")
        head = f"{method}: {int(failed.sum())} of {k} term(s) failed (z={z:g}, {how})"
        raise AssertionError(self._message(head, lines))

    def _message(self, head: str, lines: list[str]) -> str:
        out = [head, *lines]
        out.append(f"  {self.reps} replications ({len(self.errors)} raised), "
                   f"seed={seed_text(self.seed)}.")
        if isinstance(self.seed, (int, np.integer, np.random.SeedSequence)):
            out.append(f"  Rerun with the same draw, estimate, reps and seed={seed_text(self.seed)} "
                       f"to reproduce; replication r draws from result.rng(r) = "
                       f"child_rng(seed, {REP_KEY!r}, r).")
        if self.errors:
            r = min(self.errors)
            out.append(f"  First error (replication {r}): {self.errors[r]}")
        return "\n".join(out)


def _frame(x: Any, what: str) -> pd.DataFrame:
    if isinstance(x, pd.DataFrame):
        return x.astype(float)
    if isinstance(x, pd.Series):
        return x.astype(float).to_frame()
    a = np.asarray(x, dtype=float)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise ValueError(f"{what} must be (reps,) or (reps, terms), got shape {a.shape}")
    return pd.DataFrame(a)
