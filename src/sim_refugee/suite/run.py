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

The module's seams: ``fitting`` (model family -> fitting function, on arrays),
``tables`` (the descriptive tables in one vectorised pass), ``fields`` (the declared
columns of every result frame), ``layout`` (the fixed shape and ``SuiteResult``).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from sim_refugee.errors import UserInputError, require_columns
from sim_refugee.suite.fields import ESTIMATE_COLUMNS, ESTIMATE_FIELDS, make_frame
from sim_refugee.suite.fitting import Fit, FitOptions, ModelData, fit_specs
from sim_refugee.suite.layout import (
    SAMPLE_SCALARS,
    STATUSES,
    SuiteLayout,
    SuiteResult,
    layout_arrays,
    suite_layout,
)
from sim_refugee.suite.specs import AGE_UNIT_YEARS, MODEL_SOURCE_COLUMNS, MODEL_SPECS, MODELS
from sim_refugee.suite.tables import TABLE_SOURCE_COLUMNS

__all__ = [
    "ESTIMATE_COLUMNS", "SAMPLE_SCALARS", "STATUSES", "SuiteLayout", "SuiteResult",
    "census_fit", "fit_models", "regressor_frame", "required_columns", "run_suite",
    "suite_layout",
]

_EDUC = ("elementary", "secondary", "postsecondary")
_OCC = (("farmer", "farmer"), ("trader", "trader"), ("student", "student"),
        ("other", "other_job"))


def required_columns(weights: str | None = None, cluster: str | None = None) -> list[str]:
    """Every column ``run_suite`` reads (VARIABLES.md names, plus weights/cluster)."""
    cols = list(dict.fromkeys([*MODEL_SOURCE_COLUMNS, *TABLE_SOURCE_COLUMNS]))
    return cols + [c for c in (weights, cluster) if c]


def regressor_matrix(sample: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """The model variables as one float matrix and its column names: VARIABLES.md
    columns plus derived dummies and age in ``AGE_UNIT_YEARS``. Missing categories stay
    missing in their dummies (so listwise deletion applies)."""
    cols, names = [], []
    for col in MODEL_SOURCE_COLUMNS:
        if col in ("educ", "occupation"):
            continue
        v = pd.to_numeric(sample[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        cols.append(v / AGE_UNIT_YEARS if col == "age" else v)
        names.append(col)
    for src, levels in (("educ", [(lv, lv) for lv in _EDUC]), ("occupation", _OCC)):
        values = sample[src].to_numpy(dtype=object, na_value=None)
        missing = pd.isna(values)
        for lv, name in levels:
            d = (values == lv).astype(float)
            d[missing] = np.nan
            cols.append(d)
            names.append(name)
    return np.column_stack(cols), names


def regressor_frame(sample: pd.DataFrame) -> pd.DataFrame:
    """The model variables (``regressor_matrix``) as a DataFrame on the sample's index."""
    arr, names = regressor_matrix(sample)
    return pd.DataFrame(arr, columns=names, index=sample.index)


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


def _threads(blas_threads: int | None):
    """A context pinning BLAS to ``blas_threads`` (None: leave as is; a no-op when the
    process is already pinned so, e.g. by the engine)."""
    from sim_refugee.estimators._threads import blas_limit

    return blas_limit(blas_threads)


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
    if collapse and (weights is not None or cluster is not None):
        raise UserInputError("collapse=True needs weights=None and cluster=None", key="collapse")
    with _threads(blas_threads):
        return _run_suite(sample, weights, cluster, snp_order, include_variants, collapse,
                          snp_starts)


def _run_suite(sample, weights, cluster, snp_order, include_variants, collapse, snp_starts
               ) -> SuiteResult:
    from sim_refugee.suite.tables import descriptive_tables

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    w = None if weights is None else _check_weights(sample, weights)
    tables, tests, scal = descriptive_tables(sample, w)
    timings["tables"] = time.perf_counter() - t0

    g = None if cluster is None else sample[cluster].to_numpy()
    data = ModelData(*regressor_matrix(sample), w, g)
    opts = FitOptions(snp_order=snp_order, collapse=collapse, snp_starts=snp_starts,
                      include_variants=include_variants)
    for stage in ("snp", "snp_variants", "2spls", "probit"):
        timings[stage] = 0.0
    fits = fit_specs(list(MODEL_SPECS), data, opts, timings)

    estimates = _assemble(fits)
    layout = suite_layout()
    values = np.full(len(layout.scalars), np.nan)
    pos = layout_arrays()["scalar_pos"]
    for name, v in scal.items():
        i = pos.get(name)
        if i is not None:
            values[i] = v
    for name, fit in fits.items():
        values[pos[f"fit.{name}.llf"]] = fit.llf
        values[pos[f"fit.{name}.llnull"]] = fit.llnull
    values[pos["sample.rows"]] = float(len(sample))
    values[pos["sample.persons"]] = (float(sample["person_id"].nunique())
                                     if "person_id" in sample else float("nan"))
    scalars = pd.Series(values, index=list(layout.scalars), dtype=float)
    messages = pd.Series({m: fits[m].message for m in layout.models}, dtype=object)
    meta = {"n": int(len(sample)), "weights": weights, "cluster": cluster, "collapse": collapse,
            "snp_order": int(snp_order), "include_variants": bool(include_variants),
            "layout_order": True}  # estimates rows are suite_layout().model_terms, in order
    return SuiteResult(estimates, tables, tests, scalars, pd.Series(timings), messages, meta)


def fit_models(
    sample: pd.DataFrame, models: list[str] | tuple[str, ...], snp_order: int = 3,
    collapse: bool = False, snp_starts: int = 1, blas_threads: int | None = 1,
) -> pd.DataFrame:
    """The estimates frame (ESTIMATE_COLUMNS) of the named models only, unweighted.

    For callers that need a few fits many times (the table calibration): the same
    fitting table as ``run_suite`` (``fitting.FITTERS``), without the descriptive tables
    and the other models. ``t7std_<item>`` needs ``t7_<item>`` in the list;
    ``t9_2spls_*`` fit together; a footnote variant starts from the default start here
    (its Table 7 fit may not be in the list).
    """
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise UserInputError(f"unknown models {unknown}", key="models")
    data = ModelData(*regressor_matrix(sample), None, None)
    opts = FitOptions(snp_order=snp_order, collapse=collapse, snp_starts=snp_starts,
                      warm_variants=False)
    specs = [MODELS[m] for m in dict.fromkeys(models)]
    order = sorted(range(len(specs)), key=lambda i: specs[i].family == "snp_std")
    with _threads(blas_threads):
        fits = fit_specs([specs[i] for i in order], data, opts)
    cols: dict[str, list] = {c: [] for c in ESTIMATE_COLUMNS}
    for name in models:
        spec, f = MODELS[name], fits[name]
        k = len(spec.terms)
        cols["model"] += [name] * k
        cols["term"] += list(spec.terms)
        for c in ("estimate", "se", "pvalue"):
            cols[c] += list(getattr(f, c))
        cols["nobs"] += [f.nobs] * k
        cols["status"] += [f.status] * k
    return make_frame(ESTIMATE_FIELDS, cols)


def _assemble(fits: dict[str, Fit]) -> pd.DataFrame:
    """The estimates frame in layout order from the per-model fits."""
    lay = layout_arrays()
    specs = MODEL_SPECS
    status = np.repeat(np.array([fits[s.name].status for s in specs], dtype=object),
                       lay["n_terms"])
    return make_frame(ESTIMATE_FIELDS, {
        "model": lay["model"],
        "term": lay["term"],
        "estimate": np.concatenate([fits[s.name].estimate for s in specs]),
        "se": np.concatenate([fits[s.name].se for s in specs]),
        "pvalue": np.concatenate([fits[s.name].pvalue for s in specs]),
        "nobs": np.repeat(np.array([fits[s.name].nobs for s in specs], dtype=float),
                          lay["n_terms"]),
        "status": status,
    })


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
