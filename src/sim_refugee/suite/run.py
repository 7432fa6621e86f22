"""The paper's whole analysis on one sample (the answer strategy), and on the population
(the inquiry): ``run_suite``, ``census_fit``, ``suite_layout``.

Missing answers are handled as the paper did: each model is fitted on the rows complete
for its own variables (listwise per model, so each model has its own valid N), and each
table item is tabulated on its own valid N. A fit that fails numerically keeps its rows
in the estimates frame with NaN values and a non-'ok' status: the frame always has the
rows of ``suite_layout()`` in that order, so a Monte Carlo engine can stack thousands.

Scale of Table 7 (documented choice): ``t7_<item>`` holds the raw SNP coefficients, the
scale sneop prints (first cut pinned, no intercept, error sd != 1), which is the paper's
likely scale and the one the claims read; ``t7std_<item>`` holds the same fit's
standardized coefficients b / sd(error), with delta-method standard errors. The census
fit runs the same code on the population, so each estimand is on its estimate's scale.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import stats

from sim_refugee.errors import UserInputError, require_columns
from sim_refugee.suite.specs import (
    AGE_UNIT_YEARS,
    MODEL_SOURCE_COLUMNS,
    MODEL_SPECS,
    MODELS,
    ModelSpec,
)
from sim_refugee.suite.tables import TABLE_ITEMS, TABLE_SOURCE_COLUMNS, scalar_names

ESTIMATE_COLUMNS = ["model", "term", "estimate", "se", "pvalue", "nobs", "status"]
STATUSES = ("ok", "not_converged", "singular_hessian", "non_psd_cov", "failed", "skipped")


@dataclass(frozen=True)
class SuiteLayout:
    """The fixed shape of every ``SuiteResult`` (same for every sample).

    ``model_terms``: (model, term) pairs in estimates-row order; ``models``: model names;
    ``scalars``: scalar names in order; ``tests``: (table, item) pairs of the gender tests.
    """

    model_terms: tuple[tuple[str, str], ...]
    models: tuple[str, ...]
    scalars: tuple[str, ...]
    tests: tuple[tuple[str, str], ...]

    @property
    def index(self) -> pd.MultiIndex:
        return pd.MultiIndex.from_tuples(self.model_terms, names=["model", "term"])


# The sample's size in interview rows and in distinct persons: duplicate interviews
# (designs.artefacts) inflate the first but not the second, the effective N.
SAMPLE_SCALARS: tuple[str, ...] = ("sample.rows", "sample.persons")


def _fit_scalar_names() -> list[str]:
    return [*SAMPLE_SCALARS, *(f"fit.{m}.llf" for m in (s.name for s in MODEL_SPECS))]


@lru_cache(maxsize=1)
def suite_layout() -> SuiteLayout:
    """The fixed list of (model, term) rows, models, scalar names and test keys."""
    pairs = tuple((s.name, t) for s in MODEL_SPECS for t in s.terms)
    return SuiteLayout(
        model_terms=pairs,
        models=tuple(s.name for s in MODEL_SPECS),
        scalars=tuple(scalar_names() + _fit_scalar_names()),
        tests=tuple((ti.table, ti.item) for ti in TABLE_ITEMS),
    )


@dataclass
class SuiteResult:
    """The suite on one sample (Contract 5). ``messages``: status message per model;
    ``timings``: seconds per stage; ``meta``: how it was run."""

    estimates: pd.DataFrame
    tables: pd.DataFrame
    tests: pd.DataFrame
    scalars: pd.Series
    timings: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    messages: pd.Series = field(default_factory=lambda: pd.Series(dtype=object))
    meta: dict = field(default_factory=dict)

    def claims(self) -> pd.Series:
        """The claims registry evaluated on this result (``evaluate_claims``)."""
        from sim_refugee.claims import evaluate_claims

        return evaluate_claims(self)

    def coef(self, model: str) -> pd.DataFrame:
        """The rows of one model, indexed by term."""
        return self.estimates[self.estimates["model"] == model].set_index("term")


def required_columns(weights: str | None = None, cluster: str | None = None) -> list[str]:
    """Every column ``run_suite`` reads (VARIABLES.md names, plus weights/cluster)."""
    cols = list(dict.fromkeys([*MODEL_SOURCE_COLUMNS, *TABLE_SOURCE_COLUMNS]))
    return cols + [c for c in (weights, cluster) if c]


def regressor_frame(sample: pd.DataFrame) -> pd.DataFrame:
    """The model variables: VARIABLES.md columns plus derived dummies and age in decades.

    Missing categories stay missing in their dummies (so listwise deletion applies).
    """
    out = {}
    for col in MODEL_SOURCE_COLUMNS:
        if col in ("educ", "occupation"):
            continue
        out[col] = pd.to_numeric(sample[col], errors="coerce").to_numpy(dtype=float)
    out["age"] = out["age"] / AGE_UNIT_YEARS
    educ = sample["educ"].astype(object)
    occ = sample["occupation"].astype(object)
    educ_missing = educ.isna().to_numpy()
    occ_missing = occ.isna().to_numpy()
    for lv in ("elementary", "secondary", "postsecondary"):
        d = (educ == lv).to_numpy(dtype=float)
        d[educ_missing] = np.nan
        out[lv] = d
    for lv, name in (("farmer", "farmer"), ("trader", "trader"), ("student", "student"),
                     ("other", "other_job")):
        d = (occ == lv).to_numpy(dtype=float)
        d[occ_missing] = np.nan
        out[name] = d
    return pd.DataFrame(out, index=sample.index)


# --------------------------------------------------------------------------- fitting ---
@dataclass
class _Fit:
    """Estimates of one model as aligned arrays over its layout terms."""

    estimate: np.ndarray
    se: np.ndarray
    pvalue: np.ndarray
    nobs: float
    status: str
    message: str = ""
    llf: float = np.nan


def _note(fit: _Fit, note: str) -> _Fit:
    """Append a note (e.g. dropped regressors) to a fit's message."""
    if note:
        fit.message = "; ".join(m for m in (fit.message, note) if m)
    return fit


def _failed(spec: ModelSpec, status: str, message: str, nobs: float = np.nan) -> _Fit:
    k = len(spec.terms)
    nan = np.full(k, np.nan)
    return _Fit(nan, nan.copy(), nan.copy(), nobs, status, message)


def _from_results(spec: ModelSpec, res, nobs: float) -> _Fit:
    """Align a results object's params/bse/pvalues on the spec's terms (NaN if absent)."""
    idx = res.params.index.get_indexer(list(spec.terms))
    ok = idx >= 0

    def pick(series) -> np.ndarray:
        vals = np.asarray(series, dtype=float)
        return np.where(ok, vals[np.where(ok, idx, 0)], np.nan)

    return _Fit(pick(res.params), pick(res.bse), pick(res.pvalues), float(nobs),
                str(getattr(res, "status", "ok")),
                str(getattr(res, "status_message", "") or ""), float(getattr(res, "llf", np.nan)))


class _Data:
    """The regressor frame as one float matrix with a name -> column map: the per-model
    subsetting, completeness masks and checks below run in numpy (pandas indexing cost
    more than the fits themselves at n = 1,346)."""

    def __init__(self, frame: pd.DataFrame, w: np.ndarray | None, g: np.ndarray | None):
        self.arr = frame.to_numpy(dtype=float)
        self.pos = {c: i for i, c in enumerate(frame.columns)}
        self.w, self.g = w, g
        ok = np.ones(len(frame), dtype=bool)
        if w is not None:
            ok &= ~np.isnan(w)
        if g is not None:
            ok &= np.asarray(pd.notna(g))
        self.extra_ok = ok

    def complete(self, names: list[str], use_extra: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """(row positions, matrix) of the rows complete on ``names`` (and weights/groups)."""
        sub = self.arr[:, [self.pos[c] for c in names]]
        mask = ~np.isnan(sub).any(axis=1)
        if use_extra:
            mask &= self.extra_ok
        return np.flatnonzero(mask), sub[mask]


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
    for j, col in enumerate(names):
        xj = x[:, j]
        if not np.isin(xj, (0.0, 1.0)).all():
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


def _frames(y: np.ndarray, x: np.ndarray, endog: str, names: list[str], const: bool = False):
    """The (endog Series, exog DataFrame) the estimators take."""
    exog = pd.DataFrame(x, columns=names)
    if const:
        exog["const"] = 1.0
    return pd.Series(y, name=endog), exog


def _warm_start(model, base) -> np.ndarray | None:
    """Start values for a footnote variant from its base Table 7 fit: the base estimates
    by parameter name, 0 for the added regressor (same optimum, fewer iterations)."""
    if base is None or getattr(base, "status", "failed") != "ok":
        return None
    names = model.param_names()
    if not set(names) - set(model.exog_names) <= set(base.params.index):
        return None
    return np.array([float(base.params.get(n, 0.0)) for n in names])


def _fit_snp(
    spec, D: _Data, order, collapse=False, base=None, starts=1
) -> tuple[_Fit, object]:
    from sim_refugee.estimators import SNPOrderedProbit

    rows, m = D.complete([spec.endog, *spec.exog])
    if len(rows) == 0:
        return _failed(spec, "failed", "no complete rows", 0), None
    keep = _varying(m[:, 1:])
    names = [n for n, k in zip(spec.exog, keep, strict=True) if k]
    m = m[:, np.concatenate([[True], keep])]
    if collapse:
        m, fw = _collapse(m)
        y, x = _frames(m[:, 0].astype(int), m[:, 1:], spec.endog, names)
        model = SNPOrderedProbit(y, x, order=order, weights=fw)
        res = model.fit(cov_type="nonrobust", start_params=_warm_start(model, base),
                        n_starts=starts)
        return _from_results(spec, res, fw.sum()), res
    y, x = _frames(m[:, 0].astype(int), m[:, 1:], spec.endog, names)
    model = SNPOrderedProbit(
        y, x, order=order,
        weights=None if D.w is None else D.w[rows],
        groups=None if D.g is None else D.g[rows],
    )
    res = model.fit(start_params=_warm_start(model, base), n_starts=starts)
    return _from_results(spec, res, len(rows)), res


def _fit_probit(spec, D: _Data, collapse=False) -> _Fit:
    from sim_refugee.estimators import Probit

    rows, m = D.complete([spec.endog, *spec.exog])
    if len(rows) == 0:
        return _failed(spec, "failed", "no complete rows", 0)
    keep = _varying(m[:, 1:])
    names = [n for n, k in zip(spec.exog, keep, strict=True) if k]
    m = m[:, np.concatenate([[True], keep])]
    keep_rows, keep_cols, note = _drop_separating(m[:, 0], m[:, 1:], names, spec.endog)
    rows, m = rows[keep_rows], m[keep_rows]
    keep = keep_cols & _varying(m[:, 1:])
    names = [n for n, k in zip(names, keep, strict=True) if k]
    m = m[:, np.concatenate([[True], keep])]
    if collapse:
        m, fw = _collapse(m)
        y, x = _frames(m[:, 0], m[:, 1:], spec.endog, names, const=True)
        res = Probit(y, x, weights=fw).fit(cov_type="nonrobust")
        return _note(_from_results(spec, res, fw.sum()), note)
    y, x = _frames(m[:, 0], m[:, 1:], spec.endog, names, const=True)
    res = Probit(
        y, x,
        weights=None if D.w is None else D.w[rows],
        groups=None if D.g is None else D.g[rows],
    ).fit()
    return _note(_from_results(spec, res, len(rows)), note)


def _fit_2spls(D: _Data) -> tuple[_Fit, _Fit]:
    """Always unweighted (the estimator takes no weights): weights/groups are ignored."""
    from sim_refugee.estimators import TwoStageProbitLS

    job, psych = MODELS["t9_2spls_job"], MODELS["t9_2spls_psych"]
    x_job = list(job.exog[1:])  # without the endogenous avgpsych
    x_psych = list(psych.exog[1:])  # without the endogenous job
    xs = list(dict.fromkeys(x_job + x_psych))
    rows, m = D.complete(["avgpsych", "job", *xs], use_extra=False)
    if len(rows) == 0:
        return (_failed(job, "failed", "no complete rows", 0),
                _failed(psych, "failed", "no complete rows", 0))
    keep_rows, keep_cols, note = _drop_separating(m[:, 1], m[:, 2:], xs, "job")
    m = m[keep_rows]
    keep = keep_cols & _varying(m[:, 2:])
    kept = {n for n, k in zip(xs, keep, strict=True) if k}
    x = pd.DataFrame(m[:, 2:], columns=xs)
    res = TwoStageProbitLS(
        pd.Series(m[:, 0], name="avgpsych"), pd.Series(m[:, 1].astype(int), name="job"),
        x[[c for c in x_psych if c in kept]], x[[c for c in x_job if c in kept]],
    ).fit()
    n = len(m)
    return (_note(_from_results(job, res.binary, n), note),
            _note(_from_results(psych, res.continuous, n), note))


def _guard(fn, spec_or_specs, *args):
    """Run a fit; a numerical exception becomes a 'failed' status, never a crash."""
    try:
        return fn(*args)
    except Exception as exc:  # noqa: BLE001 - any numerical failure is recorded, not raised
        msg = f"{type(exc).__name__}: {exc}"
        if isinstance(spec_or_specs, tuple):
            return tuple(_failed(s, "failed", msg) for s in spec_or_specs)
        return _failed(spec_or_specs, "failed", msg)


# ----------------------------------------------------------- standardized SNP scale ---
def _standardize(spec: ModelSpec, raw: _Fit, res) -> _Fit:
    """Standardized Table 7 coefficients b / sd(error) and their delta-method SEs, as the
    estimator reports them (``standardized_params``, ``standardized_bse``)."""
    if res is None or raw.status == "failed":
        return _failed(spec, raw.status, raw.message, raw.nobs)
    terms = list(spec.terms)
    est = res.standardized_params.reindex(terms).to_numpy(dtype=float)
    se = res.standardized_bse.reindex(terms).to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = 2 * stats.norm.sf(np.abs(est / se))
    return _Fit(est, se, p, raw.nobs, raw.status, raw.message, raw.llf)


# ------------------------------------------------------------------------- the suite ---
def run_suite(
    sample: pd.DataFrame,
    weights: str | None = None,
    cluster: str | None = None,
    snp_order: int = 3,
    include_variants: bool = True,
    collapse: bool = False,
    blas_threads: int | None = 1,
    snp_starts: int = 1,
) -> SuiteResult:
    """Rerun everything the paper reports on one sample (Contract 5).

    weights: column of survey weights (pseudo-likelihood fits with a sandwich) or None;
    cluster: column for cluster-robust SEs (e.g. 'interviewer') or None;
    snp_order: Hermite order of the Table 7 models (the paper's is 3);
    include_variants: fit the footnote variants t7ne_*/t7yr_* (else their rows are
    NaN with status 'skipped');
    collapse: fit the SNP and probit models on unique rows with frequency weights (the
    same MLE and non-robust SEs, faster on a population; unweighted fits only);
    blas_threads: BLAS threads during the fits (threadpoolctl; None = leave as is). One
    is fastest here: the matrices are thin (n x ~17) and multithreaded BLAS only adds
    contention, several-fold on a loaded machine; parallelism belongs to the engine.
    snp_starts: starts of each Table 7 SNP fit (1 = sneop's single near-normal start; more
    keeps the best of ``estimators.snp.alternative_starts``: the likelihood is multimodal).
    A missing column raises ``MissingColumnError`` naming it. The 2SPLS takes no
    weights or clusters (the estimator has none): it is always the unweighted fit.
    """
    require_columns(sample, required_columns(weights, cluster), where="sample")
    if blas_threads is None:
        return _run_suite(sample, weights, cluster, snp_order, include_variants, collapse, snp_starts)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=int(blas_threads), user_api="blas"):
        return _run_suite(sample, weights, cluster, snp_order, include_variants, collapse, snp_starts)


def _check_weights(sample: pd.DataFrame, weights: str) -> np.ndarray:
    """Survey weights as floats; bad input (non-numeric, negative, infinite, all missing)
    raises a UserInputError naming the column. Rows with a missing weight are dropped
    from the weighted fits (listwise, like a missing answer)."""
    w = pd.to_numeric(sample[weights], errors="coerce").to_numpy(dtype=float)
    if (sample[weights].notna().to_numpy() & np.isnan(w)).any():
        raise UserInputError(f"weights column {weights!r} must be numeric", key=weights)
    ok = ~np.isnan(w)
    if not ok.any():
        raise UserInputError(f"weights column {weights!r} has no values (the design defines "
                             "no weights?)", key=weights)
    if (~np.isfinite(w[ok])).any() or (w[ok] < 0).any():
        raise UserInputError(f"weights column {weights!r} must be finite and non-negative",
                             key=weights)
    return w


def _run_suite(sample, weights, cluster, snp_order, include_variants, collapse, snp_starts) -> SuiteResult:
    if collapse and (weights is not None or cluster is not None):
        raise UserInputError("collapse=True needs weights=None and cluster=None", key="collapse")
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    from sim_refugee.suite.tables import descriptive_tables

    w = None if weights is None else _check_weights(sample, weights)
    tables, tests, scal = descriptive_tables(sample, w)
    timings["tables"] = time.perf_counter() - t0

    g = None if cluster is None else sample[cluster].to_numpy()
    D = _Data(regressor_frame(sample), w, g)
    fits: dict[str, _Fit] = {}
    base_results: dict[str, object] = {}
    for stage, prefix in (("snp", "t7_"), ("snp_variants", "t7ne_"), ("snp_variants", "t7yr_")):
        t0 = time.perf_counter()
        for spec in MODEL_SPECS:
            if not spec.name.startswith(prefix):
                continue
            if spec.variant and not include_variants:
                fits[spec.name] = _failed(spec, "skipped", "include_variants=False")
                continue
            base = base_results.get(spec.endog) if spec.variant else None
            out = _guard(_fit_snp, spec, spec, D, snp_order, collapse, base, snp_starts)
            fit, res = out if isinstance(out, tuple) else (out, None)
            fits[spec.name] = fit
            if prefix == "t7_":
                base_results[spec.endog] = res
                std = MODELS["t7std_" + spec.endog]
                fits[std.name] = _guard(_standardize, std, std, fit, res)
        timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - t0

    t0 = time.perf_counter()
    pair = (MODELS["t9_2spls_job"], MODELS["t9_2spls_psych"])
    fits["t9_2spls_job"], fits["t9_2spls_psych"] = _guard(_fit_2spls, pair, D)
    timings["2spls"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    for spec in MODEL_SPECS:
        if spec.family == "probit":
            fits[spec.name] = _guard(_fit_probit, spec, spec, D, collapse)
    timings["probit"] = time.perf_counter() - t0

    estimates = _assemble(fits)
    layout = suite_layout()
    for name, fit in fits.items():
        scal[f"fit.{name}.llf"] = fit.llf
    scal["sample.rows"] = float(len(sample))
    scal["sample.persons"] = (float(sample["person_id"].nunique()) if "person_id" in sample
                              else float("nan"))
    scalars = pd.Series(scal, dtype=float).reindex(list(layout.scalars))
    messages = pd.Series({m: fits[m].message for m in layout.models}, dtype=object)
    meta = {"n": int(len(sample)), "weights": weights, "cluster": cluster, "collapse": collapse,
            "snp_order": int(snp_order), "include_variants": bool(include_variants)}
    return SuiteResult(estimates, tables, tests, scalars, pd.Series(timings), messages, meta)


def fit_models(
    sample: pd.DataFrame, models: list[str] | tuple[str, ...], snp_order: int = 3,
    collapse: bool = False, snp_starts: int = 1, blas_threads: int | None = 1,
) -> pd.DataFrame:
    """The estimates frame (ESTIMATE_COLUMNS) of the named models only, unweighted.

    For callers that need a few fits many times (the table calibration): the same
    fitting code as ``run_suite``, without the descriptive tables and the other models.
    ``t7std_<item>`` needs ``t7_<item>`` in the list; ``t9_2spls_*`` fit together.
    """
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise UserInputError(f"unknown models {unknown}", key="models")
    from threadpoolctl import threadpool_limits

    D = _Data(regressor_frame(sample), None, None)
    fits: dict[str, _Fit] = {}
    with threadpool_limits(limits=blas_threads, user_api="blas"):
        for name in models:
            spec = MODELS[name]
            if name in fits:
                continue
            if spec.family == "snp":
                out = _guard(_fit_snp, spec, spec, D, snp_order, collapse, None, snp_starts)
                fits[name], res = out if isinstance(out, tuple) else (out, None)
                std = MODELS.get("t7std_" + spec.endog)
                if std is not None and std.name in models and name.startswith("t7_"):
                    fits[std.name] = _guard(_standardize, std, std, fits[name], res)
            elif spec.family == "2spls":
                pair = (MODELS["t9_2spls_job"], MODELS["t9_2spls_psych"])
                fits["t9_2spls_job"], fits["t9_2spls_psych"] = _guard(_fit_2spls, pair, D)
            elif spec.family == "probit":
                fits[name] = _guard(_fit_probit, spec, spec, D, collapse)
    rows = []
    for name in models:
        spec, f = MODELS[name], fits.get(name)
        if f is None:
            f = _failed(spec, "skipped", "needs its raw fit in the list")
        k = len(spec.terms)
        rows.append(pd.DataFrame({
            "model": name, "term": list(spec.terms), "estimate": f.estimate, "se": f.se,
            "pvalue": f.pvalue, "nobs": np.full(k, f.nobs), "status": f.status}))
    return pd.concat(rows, ignore_index=True)[ESTIMATE_COLUMNS]


def _assemble(fits: dict[str, _Fit]) -> pd.DataFrame:
    """The estimates frame in layout order from the per-model fits."""
    est, se, p, nobs, status = [], [], [], [], []
    for spec in MODEL_SPECS:
        f = fits[spec.name]
        k = len(spec.terms)
        est.append(f.estimate)
        se.append(f.se)
        p.append(f.pvalue)
        nobs.append(np.full(k, f.nobs, dtype=float))
        status.append([f.status] * k)
    layout = suite_layout()
    return pd.DataFrame({
        "model": [m for m, _ in layout.model_terms],
        "term": [t for _, t in layout.model_terms],
        "estimate": np.concatenate(est),
        "se": np.concatenate(se),
        "pvalue": np.concatenate(p),
        "nobs": np.concatenate(nobs),
        "status": np.concatenate(status),
    })[ESTIMATE_COLUMNS]


def census_fit(
    pop: pd.DataFrame, snp_order: int = 3, include_variants: bool = True, snp_starts: int = 3
) -> SuiteResult:
    """The inquiry: the suite run on the whole population (every row, unweighted).

    The SNP fits keep the best of ``snp_starts`` starts (default 3): the estimand is the
    maximum of the census likelihood, and a single near-normal start can stop at a lower
    local maximum (seen on the default world's 'fear' item).

    Each estimate's estimand is the census fit's value of the same (model, term), on the
    same scale (raw SNP for t7_*, standardized for t7std_*). The SNP and probit models
    are fitted on the unique rows with frequency weights (exact, faster).
    """
    return run_suite(pop, weights=None, cluster=None, snp_order=snp_order,
                     include_variants=include_variants, collapse=True, snp_starts=snp_starts)
