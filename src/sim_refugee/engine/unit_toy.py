"""A toy unit whose answers are known: means, a proportion and a slope under SRS.

Used by the engine's and the diagnosis's own tests (fast, no dependence on the other
parts). Population: ``b ~ Bernoulli(p_b)``, ``y = mean_y + effect * b + sd_y * e``,
``e ~ N(0, 1)``. Designs: ``srs`` (without replacement; SEs with the finite population
correction, so the sample mean is unbiased and the Wald interval covers ~95%),
``srs_wr`` (with replacement) and ``biased`` (inclusion odds ``exp(strength * y)``:
a known non-zero bias). Models: ``mean:y``, ``mean:b``, ``ols:b`` (slope of y on b).
Failure injection (``[unit]`` params) makes chosen replications raise or report a
non-converged fit, to test that failures are recorded, not lost.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field
from scipy import stats

from sim_refugee.engine.units import OK, STATISTICS, Layout, Record
from sim_refugee.errors import UserInputError
from sim_refugee.validation import MAX_POPULATION_SIZE
from sim_refugee.validation import StrictModel as _Strict


class ToyWorld(_Strict):
    """The toy population (all values are arbitrary test settings, not paper facts)."""

    size: int = Field(default=5000, ge=10, le=MAX_POPULATION_SIZE)
    mean_y: float = 0.2
    sd_y: float = Field(default=1.0, gt=0)
    p_b: float = Field(default=0.3, ge=0, le=1)
    effect: float = 0.5


class ToyParams(_Strict):
    """Failure injection and slow-down knobs for tests."""

    fail_reps: list[int] = Field(default_factory=list)
    nonconverge_reps: list[int] = Field(default_factory=list)
    sleep_seconds: float = Field(default=0.0, ge=0)


class SrsParams(_Strict):
    pass


class BiasedParams(_Strict):
    strength: float = 0.5


_DESIGNS: dict[str, type[_Strict]] = {"srs": SrsParams, "srs_wr": SrsParams, "biased": BiasedParams}
_TERMS = (("mean", "y"), ("mean", "b"), ("ols", "b"))
_SCALARS = ("share_b", "n_unique")


def _y_pos(est: np.ndarray) -> float:
    return float(est[0, 0] > 0)


def _b_raises(est: np.ndarray) -> float:
    slope, _, p = est[2]
    return np.nan if np.isnan(slope) else float(slope > 0 and p < 0.05)


def _b_raises_truth(est: np.ndarray) -> float:
    return float(est[2, 0] > 0)


#: The toy's claims: id -> (on a sample's estimates, on the census fit's). Evaluated by
#: the worker (kept as a check) and again from the stored estimates when collecting, so
#: a claim added here applies to runs made before it (tests add one).
CLAIMS: dict[str, tuple] = {
    "y_mean_positive": (_y_pos, _y_pos),
    "b_raises_y": (_b_raises, _b_raises_truth),
}


def _wald(est: float, se: float) -> tuple[float, float, float]:
    p = 2 * stats.norm.sf(abs(est / se)) if se > 0 else np.nan
    return est, se, p


def _fit(y: np.ndarray, b: np.ndarray, fpc: float) -> tuple[np.ndarray, float]:
    n = len(y)
    rows = []
    for v in (y, b):
        rows.append(_wald(v.mean(), np.sqrt(fpc * v.var(ddof=1) / n)))
    # OLS slope of y on b (closed form; a toy needs no model object).
    bc = b - b.mean()
    sxx = float(bc @ bc)
    if sxx == 0:
        rows.append((np.nan, np.nan, np.nan))
        ols_ok = False
    else:
        slope = float(bc @ (y - y.mean())) / sxx
        resid = y - y.mean() - slope * bc
        rows.append(_wald(slope, np.sqrt(float(resid @ resid) / (n - 2) / sxx)))
        ols_ok = True
    return np.array(rows, dtype=float), ols_ok


class ToyUnit:
    """See module docstring."""

    name = "toy"

    def validate_world(self, world: dict[str, Any]) -> ToyWorld:
        return ToyWorld.model_validate(world)

    def validate_params(self, params: dict[str, Any]) -> ToyParams:
        return ToyParams.model_validate(params)

    def check_design(self, name: str, key: str) -> None:
        if name not in _DESIGNS:
            raise UserInputError(
                f"config key {key!r}: unknown design {name!r} for the toy unit; "
                f"known: {', '.join(_DESIGNS)}",
                key=key,
            )

    def validate_design_params(self, name: str, params: dict[str, Any]) -> _Strict:
        return _DESIGNS[name].model_validate(params)

    def population_size(self, world: ToyWorld) -> int:
        return world.size

    def layout(self, world: ToyWorld, params: ToyParams) -> Layout:
        return Layout(model_terms=_TERMS, claims=tuple(CLAIMS), scalars=_SCALARS)

    def claim_ids(self) -> tuple[str, ...]:
        return tuple(CLAIMS)

    def claims_from_arrays(self, lab: dict[str, list[str]], est: np.ndarray,
                           model_status: Any, scalars: Any, truth: bool = False
                           ) -> np.ndarray | None:
        """Claims (rows: records) from stored estimates (``engine.claims_eval``)."""
        if lab["model_term"] != [f"{m}:{t}" for m, t in _TERMS]:
            return None
        k = 1 if truth else 0
        ids = lab["claim"]
        out = np.full((len(est), len(ids)), np.nan)
        for j, c in enumerate(ids):
            if c in CLAIMS:
                out[:, j] = [CLAIMS[c][k](e) for e in est]
        return out

    def build_population(
        self, world: ToyWorld, params: ToyParams, seq: np.random.SeedSequence
    ) -> pd.DataFrame:
        rng = np.random.Generator(np.random.PCG64(seq))
        b = (rng.random(world.size) < world.p_b).astype(float)
        y = world.mean_y + world.effect * b + world.sd_y * rng.standard_normal(world.size)
        return pd.DataFrame({"person_id": np.arange(world.size), "y": y, "b": b})

    def prepare(self, pop: pd.DataFrame, design: str, dparams: Any, rng: np.random.Generator) -> Any:
        if design == "biased":
            w = np.exp(dparams.strength * pop["y"].to_numpy())
            return w / w.sum()
        return None

    def replicate(
        self,
        pop: pd.DataFrame,
        state: Any,
        design: str,
        n: int,
        dparams: Any,
        params: ToyParams,
        rng: np.random.Generator,
        rep: int,
    ) -> Record:
        t0 = time.perf_counter()
        if params.sleep_seconds:
            time.sleep(params.sleep_seconds)
        N = len(pop)
        if design == "srs":
            idx = rng.choice(N, size=n, replace=False)
            fpc = 1.0 - n / N
        elif design == "srs_wr":
            idx = rng.integers(0, N, size=n)
            fpc = 1.0
        else:
            idx = rng.choice(N, size=n, replace=False, p=state)
            fpc = 1.0
        t1 = time.perf_counter()
        if rep in params.fail_reps:
            raise RuntimeError(f"injected failure in replication {rep}")
        y = pop["y"].to_numpy()[idx]
        b = pop["b"].to_numpy()[idx]
        est, ols_ok = _fit(y, b, fpc)
        status = np.array([OK, OK if ols_ok else "singular_hessian"], dtype=object)
        if rep in params.nonconverge_reps:
            status[1] = "not_converged"
        t2 = time.perf_counter()
        rec = Record(
            estimates=est,
            model_status=status,
            claims=self._claims(est),
            scalars=np.array([b.mean(), float(len(np.unique(idx)))]),
        )
        rec.timings = {"sample": t1 - t0, "fit": t2 - t1, "claims": time.perf_counter() - t2}
        return rec

    @staticmethod
    def _claims(est: np.ndarray) -> np.ndarray:
        return np.array([f(est) for f, _ in CLAIMS.values()])

    def estimand(self, pop: pd.DataFrame, world: ToyWorld, params: ToyParams) -> Record:
        y = pop["y"].to_numpy()
        b = pop["b"].to_numpy()
        est, ols_ok = _fit(y, b, 0.0 + 1e-300)  # census: no sampling error
        est[:, 1:] = np.nan
        slope_true = est[2, 0]
        est[2, 2] = 0.0 if slope_true != 0 else 1.0
        claims = np.array([t(est) for _, t in CLAIMS.values()])
        assert est.shape[1] == len(STATISTICS)
        return Record(
            estimates=est,
            model_status=np.array([OK, OK if ols_ok else "singular_hessian"], dtype=object),
            claims=claims,
            scalars=np.array([b.mean(), float(len(pop))]),
        )


UNIT = ToyUnit()
