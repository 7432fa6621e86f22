"""Fitting the suite's models: one table from model family to fitting function.

``FITTERS`` maps each ``ModelSpec.family`` to the function that fits it; a new estimator
adds its family to ``specs.MODEL_SPECS`` and one entry here. Every fitter works on
plain arrays (``ModelData``: the regressor matrix with a name -> column map) and
returns ``Fit`` objects (aligned arrays over the spec's terms), so no pandas object is
built inside the per-model loop.

Starts (what makes the suite fast without moving any optimum):
- the Table 7 SNP fits start as sneop does (the ordered-probit solution, g = 0.01): the
  SNP likelihood is multimodal, so their start is never changed, and never taken from
  the census truth;
- a footnote variant (t7ne_*, t7yr_*) starts from its own sample's Table 7 solution
  (0 for the added regressor);
- every ordered-probit pre-fit keeps its default start: it fixes the SNP model's first
  cut, and Newton stops within its tolerance at a point that depends on the start, so
  another start would move that normalisation (and lnL by ~1e-7).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtr, stdtr

from sim_refugee.suite.specs import MODELS, ModelSpec


@dataclass
class Fit:
    """Estimates of one model as aligned arrays over its layout terms."""

    estimate: np.ndarray
    se: np.ndarray
    pvalue: np.ndarray
    nobs: float
    status: str
    message: str = ""
    llf: float = np.nan
    #: log-likelihood of the model without regressors on the same rows and weights (the
    #: base of the LR chi-square and McFadden's pseudo R-squared, as statsmodels' llnull)
    llnull: float = np.nan


def failed(spec: ModelSpec, status: str, message: str, nobs: float = np.nan) -> Fit:
    """NaN estimates with a non-'ok' status (the rows stay in the layout)."""
    k = len(spec.terms)
    nan = np.full(k, np.nan)
    return Fit(nan, nan.copy(), nan.copy(), nobs, status, message)


def _note(fit: Fit, note: str) -> Fit:
    """Append a note (e.g. dropped regressors) to a fit's message."""
    if note:
        fit.message = "; ".join(m for m in (fit.message, note) if m)
    return fit


def categorical_llnull(codes: np.ndarray, w: np.ndarray | None = None) -> float:
    """Log-likelihood of a model with only thresholds (or only a constant) for a
    categorical outcome: it reproduces the (weighted) outcome shares exactly, so the
    maximum is sum_k W_k log(W_k / W) for any ordered or binary link."""
    codes = np.asarray(codes)
    _, inv = np.unique(codes, return_inverse=True)
    wk = np.bincount(inv, weights=None if w is None else np.asarray(w, float))
    wk = wk[wk > 0]
    return float(np.sum(wk * np.log(wk / wk.sum())))


def gaussian_llnull(y: np.ndarray) -> float:
    """Gaussian log-likelihood of a constant-only linear model (ML variance)."""
    n = len(y)
    var = float(np.var(y))
    return float(-0.5 * n * (np.log(2 * np.pi * var) + 1.0))


def normal_pvalues(est: np.ndarray, se: np.ndarray) -> np.ndarray:
    """Two-sided normal p-values 2 Phi(-|b / se|) (NaN where b or se is NaN)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return 2 * ndtr(-np.abs(est / se))


def _aligned(terms: tuple[str, ...], names: list[str], values: np.ndarray) -> np.ndarray:
    """``values`` (named ``names``) on ``terms``; NaN for a term not among ``names``."""
    pos = {n: i for i, n in enumerate(names)}
    out = np.full(len(terms), np.nan)
    for j, t in enumerate(terms):
        i = pos.get(t)
        if i is not None:
            out[j] = values[i]
    return out


class ModelData:
    """The regressor matrix with a name -> column map, weights and cluster groups: the
    per-model subsetting, completeness masks and checks run in numpy."""

    def __init__(self, arr: np.ndarray, names: list[str], w: np.ndarray | None,
                 g: np.ndarray | None):
        self.arr = arr
        self.pos = {c: i for i, c in enumerate(names)}
        self.w, self.g = w, g
        ok = np.ones(len(arr), dtype=bool)
        if w is not None:
            ok &= ~np.isnan(w)
        if g is not None:
            import pandas as pd

            ok &= np.asarray(pd.notna(g))
        self.extra_ok = ok

    def complete(self, names: list[str], use_extra: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """(row positions, matrix) of the rows complete on ``names`` (and weights/groups)."""
        sub = self.arr[:, [self.pos[c] for c in names]]
        mask = ~np.isnan(sub).any(axis=1)
        if use_extra:
            mask &= self.extra_ok
        return np.flatnonzero(mask), sub[mask]


@dataclass
class FitOptions:
    """How the suite fits: SNP order and starts, collapsed fits, warm-started variants."""

    snp_order: int = 3
    collapse: bool = False
    snp_starts: int = 1
    include_variants: bool = True
    warm_variants: bool = True
    #: the Table 7 SNP fits of this sample by outcome (starts for its variants)
    solutions: dict[str, tuple] = field(default_factory=dict)
    # by outcome: (kept regressor names, parameter names, SNPFit)


def _varying(x: np.ndarray) -> np.ndarray:
    """Boolean mask of the non-constant columns of ``x``: a constant regressor is dropped
    before the fit (as Stata drops it), its row reported as NaN, so one empty category in
    a small sample does not lose the whole model."""
    if len(x) == 0:
        return np.zeros(x.shape[1], dtype=bool)
    return x.max(axis=0) > x.min(axis=0)


def _drop_separating(y: np.ndarray, x: np.ndarray, names: list[str], endog: str
                     ) -> tuple[np.ndarray, np.ndarray, str]:
    """Stata's rule for a binary outcome: a 0/1 regressor whose 1s (or 0s) all have the
    same outcome predicts it perfectly (the MLE does not exist); drop those rows and the
    regressor, as ``probit`` does ("x != 0 predicts failure perfectly"). The term's row
    is then NaN; the note goes to the model's message. Returns (row mask, column mask,
    note)."""
    notes = []
    keep_rows = np.ones(len(y), dtype=bool)
    keep_cols = np.ones(x.shape[1], dtype=bool)
    if len(y) and ((y == 0.0) | (y == 1.0)).all():
        # fast path (the usual case): no 0/1 regressor separates a 0/1 outcome; checked
        # for all columns at once, else the sequential rule below decides
        binary = ((x == 0.0) | (x == 1.0)).all(axis=0)
        xb = x[:, binary]
        n1 = xb.sum(axis=0)
        y1_in1 = y @ xb
        n0 = len(y) - n1
        y1_in0 = y.sum() - y1_in1
        sep = (((n1 > 0) & ((y1_in1 == 0) | (y1_in1 == n1)))
               | ((n0 > 0) & ((y1_in0 == 0) | (y1_in0 == n0))))
        if not sep.any():
            return keep_rows, keep_cols, ""
    for j, col in enumerate(names):
        xj = x[:, j]
        if not ((xj == 0.0) | (xj == 1.0)).all():
            continue
        for v in (1.0, 0.0):
            sel = keep_rows & (xj == v)
            if sel.any() and np.ptp(y[sel]) == 0:
                keep_rows &= ~sel
                keep_cols[j] = False
                notes.append(f"{col}=={v:g} predicts {endog}={y[sel][0]:g} perfectly; "
                             f"{col} and {int(sel.sum())} rows dropped")
                break
    return keep_rows, keep_cols, "; ".join(notes)


def _collapse(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique rows of ``m`` and their counts (frequency weights).

    Fitting the unique rows with frequency weights and the NON-robust (inverse weighted
    Hessian) covariance gives exactly the unweighted MLE and its SEs; on a population
    with discrete regressors it is many times faster. Used by the census fit.
    """
    uniq, counts = np.unique(m, axis=0, return_counts=True)
    return uniq, counts.astype(float)


def _kept(spec_exog: tuple[str, ...], m: np.ndarray, offset: int) -> tuple[list[str], np.ndarray]:
    """Drop the constant regressor columns (from column ``offset`` on) of ``m``."""
    keep = _varying(m[:, offset:])
    names = [n for n, k in zip(spec_exog, keep, strict=True) if k]
    return names, m[:, np.concatenate([np.ones(offset, dtype=bool), keep])]


# ------------------------------------------------------------------------------ SNP ---
def _snp_names(exog: list[str], n_cat: int, order: int) -> list[str]:
    first = 1 if order == 0 else 2
    return exog + [f"cut{j}" for j in range(first, max(n_cat, 2))] + [
        f"g{j}" for j in range(1, order + 1)]


def _warm(names: list[str], exog: list[str], base: tuple | None) -> np.ndarray | None:
    """A variant's SNP start from its Table 7 solution by parameter name, 0 for the added
    regressor (``names``/``exog``: the variant's parameter and regressor names). None
    (the default start) unless that solution is 'ok' and has the variant's cuts and
    coefficients g."""
    if base is None:
        return None
    _, b_names, fit = base
    if fit.status != "ok":
        return None
    pos = {n: i for i, n in enumerate(b_names)}
    if not set(names[len(exog):]) <= set(pos):
        return None
    return np.array([float(fit.params[pos[n]]) if n in pos else 0.0 for n in names])


def fit_snp(spec: ModelSpec, data: ModelData, opts: FitOptions) -> dict[str, Fit]:
    """An SNP ordered probit (Table 7 and its footnote variants) on the spec's complete
    rows; a Table 7 fit also gives its standardized model ``t7std_<item>``."""
    from sim_refugee.estimators.snp import fit_snp_arrays

    out: dict[str, Fit] = {}
    std = MODELS.get("t7std_" + spec.endog) if spec.name.startswith("t7_") else None
    rows, m = data.complete([spec.endog, *spec.exog])
    if len(rows) == 0:
        out[spec.name] = failed(spec, "failed", "no complete rows", 0)
    else:
        names, m = _kept(spec.exog, m, 1)
        w = g = None
        if opts.collapse:
            m, w = _collapse(m)
            nobs, cov_type = float(w.sum()), "nonrobust"
        else:
            nobs = float(len(rows))
            w = None if data.w is None else data.w[rows]
            g = None if data.g is None else data.g[rows]
            cov_type = "cluster" if g is not None else ("robust" if w is not None else "nonrobust")
        levels, codes = np.unique(m[:, 0].astype(int), return_inverse=True)
        n_cat = len(levels)
        if n_cat < 2:
            msg = f"outcome has {n_cat} observed categor{'y' if n_cat == 1 else 'ies'}; need at least 2"
            out[spec.name] = failed(spec, "failed", msg, nobs)
        else:
            base = opts.solutions.get(spec.endog) if (spec.variant and opts.warm_variants) else None
            pnames = _snp_names(names, n_cat, opts.snp_order)
            x = np.ascontiguousarray(m[:, 1:])
            try:
                fit = fit_snp_arrays(
                    x, codes.astype(np.intp), n_cat, opts.snp_order, w, g, cov_type=cov_type,
                    start_params=_warm(pnames, names, base),
                    n_starts=opts.snp_starts)
            except (np.linalg.LinAlgError, ValueError, FloatingPointError) as exc:
                out[spec.name] = failed(spec, "failed", f"{type(exc).__name__}: {exc}", nobs)
            else:
                if fit.score_failed:
                    out[spec.name] = failed(spec, "failed", "zero probability at the estimate", nobs)
                else:
                    est = _aligned(spec.terms, pnames, fit.params)
                    se = _aligned(spec.terms, pnames, fit.bse)
                    ll0 = categorical_llnull(codes, w)
                    out[spec.name] = Fit(est, se, normal_pvalues(est, se), nobs, fit.status,
                                         fit.message, fit.llf, ll0)
                    if spec.name.startswith("t7_"):
                        opts.solutions[spec.endog] = (names, pnames, fit)
                    if std is not None:
                        snames = names + [f"cut{j}" for j in range(1, n_cat)]
                        s_est = _aligned(std.terms, snames, fit.std_params)
                        s_se = _aligned(std.terms, snames, fit.std_bse)
                        out[std.name] = Fit(s_est, s_se, normal_pvalues(s_est, s_se), nobs,
                                            fit.status, fit.message, fit.llf, ll0)
    if std is not None and std.name not in out:
        raw = out[spec.name]
        out[std.name] = failed(std, raw.status, raw.message, raw.nobs)
    return out


def fit_snp_std(spec: ModelSpec, data: ModelData, opts: FitOptions) -> dict[str, Fit]:
    """``t7std_<item>`` comes with its raw fit (``fit_snp`` of ``t7_<item>``); alone it
    is skipped."""
    return {spec.name: failed(spec, "skipped", "needs its raw fit in the list")}


# --------------------------------------------------------------------------- probit ---
def fit_probit(spec: ModelSpec, data: ModelData, opts: FitOptions) -> dict[str, Fit]:
    """A destination probit (Table 9) with Stata's dropping of constant and perfectly
    predicting regressors."""
    from sim_refugee.estimators.probit import fit_probit_model

    rows, m = data.complete([spec.endog, *spec.exog])
    if len(rows) == 0:
        return {spec.name: failed(spec, "failed", "no complete rows", 0)}
    names, m = _kept(spec.exog, m, 1)
    keep_rows, keep_cols, note = _drop_separating(m[:, 0], m[:, 1:], names, spec.endog)
    rows, m = rows[keep_rows], m[keep_rows]
    names = [n for n, k in zip(names, keep_cols, strict=True) if k]
    m = m[:, np.concatenate([[True], keep_cols])]
    names, m = _kept(tuple(names), m, 1)
    y = m[:, 0]
    if not ((y == 0.0) | (y == 1.0)).all():
        return {spec.name: failed(spec, "failed", f"UserInputError: endog {spec.endog!r} of "
                                  "a probit must be 0/1")}
    if opts.collapse:
        m, w = _collapse(m)
        y, nobs, g, cov_type = m[:, 0], float(w.sum()), None, "nonrobust"
    else:
        w = None if data.w is None else data.w[rows]
        g = None if data.g is None else data.g[rows]
        nobs = float(len(rows))
        cov_type = "cluster" if g is not None else ("robust" if w is not None else "nonrobust")
    x = np.column_stack([m[:, 1:], np.ones(len(m))])
    fit = fit_probit_model(y, x, w, g, cov_type)
    pnames = [*names, "const"]
    est = _aligned(spec.terms, pnames, fit.params)
    se = _aligned(spec.terms, pnames, fit.bse)
    return {spec.name: _note(Fit(est, se, normal_pvalues(est, se), nobs, fit.status,
                                 fit.message, fit.llf, categorical_llnull(y, w)), note)}


# ---------------------------------------------------------------------------- 2SPLS ---
def fit_2spls(spec: ModelSpec, data: ModelData, opts: FitOptions) -> dict[str, Fit]:
    """Both 2SPLS equations of Table 9 (fitted together, whichever is asked). Always
    unweighted (the estimator takes no weights): weights/groups are ignored."""
    from sim_refugee.estimators import TwoStageProbitLS

    job, psych = MODELS["t9_2spls_job"], MODELS["t9_2spls_psych"]
    x_job = list(job.exog[1:])  # without the endogenous avgpsych
    x_psych = list(psych.exog[1:])  # without the endogenous job
    xs = list(dict.fromkeys(x_job + x_psych))
    rows, m = data.complete(["avgpsych", "job", *xs], use_extra=False)
    if len(rows) == 0:
        return {s.name: failed(s, "failed", "no complete rows", 0) for s in (job, psych)}
    keep_rows, keep_cols, note = _drop_separating(m[:, 1], m[:, 2:], xs, "job")
    m = m[keep_rows]
    keep = keep_cols & _varying(m[:, 2:])
    kept = {n for n, k in zip(xs, keep, strict=True) if k}
    cols = {n: j for j, n in enumerate(xs)}
    xp = [c for c in x_psych if c in kept]
    xj = [c for c in x_job if c in kept]
    x = m[:, 2:]
    res = TwoStageProbitLS.from_arrays(
        "avgpsych", "job", m[:, 0], m[:, 1], xp, x[:, [cols[c] for c in xp]],
        xj, x[:, [cols[c] for c in xj]],
    ).fit()
    n = float(len(m))
    out = {}
    llnull = {job.name: categorical_llnull(m[:, 1]), psych.name: gaussian_llnull(m[:, 0])}
    for s, r in ((job, res.binary), (psych, res.continuous)):
        names = list(r.params.index)
        est = r.params.to_numpy(float)
        se = r.bse.to_numpy(float)
        if r.use_t and r.df_resid is not None and r.df_resid > 0:  # as EstimationResults
            with np.errstate(invalid="ignore", divide="ignore"):
                p = 2 * stdtr(r.df_resid, -np.abs(est / se))
        else:
            p = normal_pvalues(est, se)
        out[s.name] = _note(Fit(
            _aligned(s.terms, names, est), _aligned(s.terms, names, se),
            _aligned(s.terms, names, p), n, str(r.status), str(r.status_message or ""),
            float(r.llf), llnull[s.name]), note)
    return out


#: Model family -> fitting function ``(spec, data, options) -> {model name: Fit}``.
FITTERS: dict[str, Callable[[ModelSpec, ModelData, FitOptions], dict[str, Fit]]] = {
    "snp": fit_snp,
    "snp_std": fit_snp_std,
    "probit": fit_probit,
    "2spls": fit_2spls,
}


def _guarded(spec: ModelSpec, data: ModelData, opts: FitOptions) -> dict[str, Fit]:
    """Run the spec's fitter; a numerical exception becomes a 'failed' status (for every
    model the fitter would have filled), never a crash."""
    try:
        return FITTERS[spec.family](spec, data, opts)
    except Exception as exc:  # noqa: BLE001 - any numerical failure is recorded, not raised
        msg = f"{type(exc).__name__}: {exc}"
        names = [spec.name]
        if spec.family == "2spls":
            names = ["t9_2spls_job", "t9_2spls_psych"]
        elif spec.name.startswith("t7_"):
            names.append("t7std_" + spec.endog)
        return {n: failed(MODELS[n], "failed", msg) for n in names}


def fit_specs(specs: list[ModelSpec], data: ModelData, opts: FitOptions,
              timings: dict[str, float] | None = None) -> dict[str, Fit]:
    """Fit ``specs`` in order (a derived or jointly fitted model is filled by the fit
    that produces it); footnote variants are 'skipped' unless ``include_variants``.
    ``timings`` (optional) gets the seconds spent per stage."""
    import time

    fits: dict[str, Fit] = {}
    for spec in specs:
        if spec.name in fits:
            continue
        t0 = time.perf_counter()
        if spec.variant and not opts.include_variants:
            fits[spec.name] = failed(spec, "skipped", "include_variants=False")
            continue
        fits.update(_guarded(spec, data, opts))
        if timings is not None:
            stage = _stage(spec)
            timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - t0
    return fits


def _stage(spec: ModelSpec) -> str:
    """The timing stage of a model (the breakdown of ``SuiteResult.timings``)."""
    if spec.family.startswith("snp"):
        return "snp_variants" if spec.variant else "snp"
    return spec.family
