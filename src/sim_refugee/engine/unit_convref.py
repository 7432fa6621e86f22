"""The ``convref`` unit: population means from a convenience sample, alone or with a
probability reference sample (issue 16: price a reference sample against more
convenience interviews).

The paper-suite unit runs the paper's whole analysis on one pooled sample, which is
wrong for the combined design (its two parts are different samples). This unit
estimates named population means or proportions (``[unit] variables``) instead, and
knows the combined design:

* ``convref`` (``designs.combined.convref``): n convenience interviews of the paper
  design plus ``reference_n`` reference interviews (SRS or TLS). Models, one term per
  variable: ``naive`` (the convenience part's unweighted mean), ``ref`` (the reference
  part's design-weighted Hajek mean), ``ipw`` and ``dr`` (Chen, Li & Wu 2020:
  ``estimators.nonprob_ref.clw_estimate``; propensity model on ``covariates``,
  outcome model on ``outcome_covariates``, logistic for a 0/1 variable, linear
  otherwise; bootstrap SEs from ``n_boot`` resamples), and ``mean``, the design's
  estimate: the ``estimator`` chosen (``dr`` by default).
* any design of the registry (paper, srs, tls, quota, rds, snowball): ``mean`` and
  ``naive`` are the sample's unweighted mean with SE sd / sqrt(n) (the paper's
  analyses are unweighted); ``ipw``, ``dr``, ``ref`` are "skipped".

So a planner target on ``mean:<variable>`` (RMSE, coverage, power) compares the
convenience design alone with convenience plus a reference sample, at their costs;
``designs.<label>.reference_n`` is a count parameter the planner can search.
Item nonresponse (on by default in every design's draw, designs/artefacts.py): means
over the respondents; CLW fits on sample A's complete cases (variable and covariates)
and sample B's rows with every covariate. The estimand of every model is the
population mean (the census). Covariates: any
population column (a category becomes indicators of its levels but the first).
Randomness: the bootstrap draws from ``child_rng`` of the replication's SeedSequence,
key "bootstrap"; the draw from the replication's generator, as every unit.
"""

from __future__ import annotations

import math
import time
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field, field_validator
from scipy import stats

from sim_refugee.engine.units import OK, Layout, Record
from sim_refugee.errors import UserInputError
from sim_refugee.seeds import child_rng
from sim_refugee.validation import StrictModel

COMBINED = "convref"
MODELS: tuple[str, ...] = ("mean", "naive", "ref", "ipw", "dr")
SKIPPED = "skipped"
#: Observable correlates of the paper design's reach (world/reach.py) and demographics.
DEFAULT_COVARIATES: tuple[str, ...] = (
    "female", "age_decades", "urban_china", "northeast", "korean_chinese_host", "church_tie",
    "years_in_china", "foodaid", "death",
)
SCALARS: tuple[str, ...] = ("n_convenience", "n_reference", "propensity_converged")


def _schema() -> dict[str, Any]:
    from sim_refugee.world.schema import POPULATION_SCHEMA

    return POPULATION_SCHEMA


class ConvRefUnitParams(StrictModel):
    """[unit] of the convref unit: variables: the population columns whose mean is
    estimated (0/1, 1-4 items or numbers); covariates: the propensity model's columns;
    outcome_covariates: the outcome model's (default: covariates); estimator: the
    combined design's ``mean`` ("dr" or "ipw"); n_boot: bootstrap resamples for the
    IPW and DR SEs (0: no SEs, so no coverage)."""

    variables: list[str] = Field(default_factory=lambda: ["arrest"], min_length=1,
                                 max_length=20)
    covariates: list[str] = Field(default_factory=lambda: list(DEFAULT_COVARIATES),
                                  min_length=1, max_length=50)
    outcome_covariates: list[str] | None = Field(default=None, min_length=1, max_length=50)
    estimator: Literal["dr", "ipw"] = "dr"
    n_boot: int = Field(default=50, ge=0, le=2000)

    @field_validator("variables")
    @classmethod
    def _means(cls, v: list[str]) -> list[str]:
        schema = _schema()
        for i, c in enumerate(v):
            spec = schema.get(c)
            if spec is None or spec.kind not in ("binary", "item", "number"):
                raise ValueError(f"item {i}: {c!r} is not a numeric population column "
                                 "(0/1, 1-4 item or number)")
        if len(set(v)) != len(v):
            raise ValueError("a variable is listed twice")
        return v

    @field_validator("covariates", "outcome_covariates")
    @classmethod
    def _columns(cls, v: list[str] | None) -> list[str] | None:
        schema = _schema()
        for i, c in enumerate(v or []):
            if c not in schema or schema[c].kind == "id":
                raise ValueError(f"item {i}: {c!r} is not a population column")
        return v


def _design_matrix(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Covariates as floats; a category column becomes indicators of its levels but the
    first (levels from the schema, so both samples get the same columns)."""
    schema = _schema()
    parts = []
    for c in columns:
        spec = schema[c]
        if spec.kind == "category":
            x = frame[c].astype(str).to_numpy()
            parts.extend((x == lev).astype(float) for lev in spec.levels[1:])
        else:
            parts.append(frame[c].to_numpy(dtype=float))
    return np.column_stack(parts)


def _wald(est: float, se: float) -> tuple[float, float, float]:
    ok = math.isfinite(se) and se > 0
    return est, se, float(2 * stats.norm.sf(abs(est / se))) if ok else math.nan


class ConvRefUnit:
    """See module docstring."""

    name = "convref"

    def validate_world(self, world: dict[str, Any]) -> BaseModel:
        from sim_refugee.world import WorldConfig

        return WorldConfig.model_validate(world)

    def validate_params(self, params: dict[str, Any]) -> ConvRefUnitParams:
        return ConvRefUnitParams.model_validate(params)

    def _design(self, name: str, key: str = "design") -> Any:
        if name == COMBINED:
            from sim_refugee.designs.combined.convref import DESIGN

            return DESIGN
        from sim_refugee.designs import design_names, get_design

        if name not in design_names():
            raise UserInputError(
                f"config key {key!r}: unknown design {name!r} for the convref unit; known: "
                f"{COMBINED}, {', '.join(design_names())}", key=key)
        return get_design(name)

    def check_design(self, name: str, key: str) -> None:
        self._design(name, key)

    def validate_design_params(self, name: str, params: dict[str, Any]) -> BaseModel:
        return self._design(name).Params.model_validate(params)

    def population_size(self, world: Any) -> int:
        return int(world.size)

    def layout(self, world: Any, params: ConvRefUnitParams) -> Layout:
        return Layout(model_terms=tuple((m, v) for m in MODELS for v in params.variables),
                      claims=(), scalars=SCALARS)

    def claim_ids(self) -> tuple[str, ...]:
        return ()

    def build_population(self, world: Any, params: Any, seq: np.random.SeedSequence) -> Any:
        from sim_refugee.world import build_population

        return build_population(world, seq)

    def prepare(self, pop: Any, design: str, dparams: Any, rng: np.random.Generator) -> Any:
        return self._design(design).prepare(pop, dparams, rng)

    def replicate(self, pop: Any, state: Any, design: str, n: int, dparams: Any,
                  params: ConvRefUnitParams, rng: np.random.Generator, rep: int) -> Record:
        from sim_refugee.estimators.nonprob_ref import clw_estimate

        t0 = time.perf_counter()
        sample = self._design(design).draw(pop, state, n, dparams, rng)
        boot_rng = child_rng(rng.bit_generator.seed_seq, "bootstrap")
        t1 = time.perf_counter()
        combined = design == COMBINED
        conv = sample[sample["source"] == "convenience"] if combined else sample
        ref = sample[sample["source"] == "reference"] if combined else None
        V = len(params.variables)
        est = np.full((len(MODELS) * V, 3), np.nan)
        status = {m: OK for m in MODELS}
        converged = math.nan
        if ref is not None:
            xa = _design_matrix(conv, params.covariates)
            xb = _design_matrix(ref, params.covariates)
            oc = params.outcome_covariates or params.covariates
            oa, ob = _design_matrix(conv, oc), _design_matrix(ref, oc)
            d = ref["weight"].to_numpy(dtype=float)
            keep_b = np.isfinite(xb).all(axis=1) & np.isfinite(ob).all(axis=1)
            keep_xa = np.isfinite(xa).all(axis=1) & np.isfinite(oa).all(axis=1)
        for j, var in enumerate(params.variables):
            ya = conv[var].to_numpy(dtype=float)
            row = {m: MODELS.index(m) * V + j for m in MODELS}
            y_ok = ya[np.isfinite(ya)]  # item nonresponse: the respondents' mean
            est[row["naive"]] = _wald(float(y_ok.mean()),
                                      float(y_ok.std(ddof=1) / math.sqrt(len(y_ok))))
            if ref is None:
                est[row["mean"]] = est[row["naive"]]
                continue
            yb = ref[var].to_numpy(dtype=float)
            fb = np.isfinite(yb)
            mu_b = float(d[fb] @ yb[fb] / d[fb].sum())
            se_b = float(math.sqrt(np.sum((d[fb] * (yb[fb] - mu_b)) ** 2)) / d[fb].sum())
            est[row["ref"]] = _wald(mu_b, se_b)
            binary = _schema()[var].kind == "binary"
            ka = keep_xa & np.isfinite(ya)  # complete cases of sample A
            fit = clw_estimate(xa[ka], ya[ka], xb[keep_b], d[keep_b], outcome_xa=oa[ka],
                               outcome_xb=ob[keep_b], outcome="logistic" if binary else "linear",
                               n_boot=params.n_boot, rng=boot_rng if params.n_boot else None)
            converged = float(fit.converged) if j == 0 else min(converged, float(fit.converged))
            est[row["ipw"]] = _wald(fit.ipw, fit.se_ipw)
            est[row["dr"]] = _wald(fit.dr, fit.se_dr)
            est[row["mean"]] = est[row[params.estimator]]
            if not fit.converged:
                for m in ("ipw", "dr", "mean"):
                    status[m] = "not_converged"
        if ref is None:
            for m in ("ref", "ipw", "dr"):
                status[m] = SKIPPED
        rec = Record(estimates=est, model_status=np.array([status[m] for m in MODELS], object),
                     claims=np.zeros(0),
                     scalars=np.array([len(conv), 0.0 if ref is None else len(ref), converged]))
        rec.timings = {"sample": t1 - t0, "fit": time.perf_counter() - t1}
        return rec

    def estimand(self, pop: Any, world: Any, params: ConvRefUnitParams) -> Record:
        V = len(params.variables)
        est = np.full((len(MODELS) * V, 3), np.nan)
        for j, var in enumerate(params.variables):
            mu = float(pop[var].to_numpy(dtype=float).mean())
            for i in range(len(MODELS)):
                est[i * V + j, 0] = mu
        return Record(estimates=est, model_status=np.array([OK] * len(MODELS), object),
                      claims=np.zeros(0), scalars=np.array([math.nan, math.nan, math.nan]))


UNIT = ConvRefUnit()
