"""Simple random sample without replacement: the oracle a field survey cannot run.

Every person has inclusion probability n/N and design weight N/n, so weighted and
unweighted estimates coincide and the only error is sampling error. The respondent's
``site`` is their ``home_site`` (the catchment they live in, or "none").
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
from pydantic import Field

from sim_refugee.designs import get_design
from sim_refugee.designs.artefacts import assemble_sample
from sim_refugee.designs.base import BaseDesign, DesignParams
from sim_refugee.seeds import rng_for


class SRSParams(DesignParams):
    """n_interviewers: interviewers assigned uniformly at random (an assumption)."""

    n_interviewers: int = Field(48, ge=1)


class SRSDesign(BaseDesign):
    """Simple random sampling without replacement."""

    name: ClassVar[str] = "srs"
    Params: ClassVar[type[DesignParams]] = SRSParams

    def select(
        self, pop: pd.DataFrame, state: None, n: int, params: SRSParams,
        rng: np.random.Generator,
    ) -> pd.DataFrame:
        """n persons drawn without replacement; incl_prob n/N, weight N/n."""
        big_n = len(pop)
        rows = rng.choice(big_n, size=n, replace=False)
        return assemble_sample(
            pop, rows, design=self.name, incl_prob=n / big_n, weight=big_n / n,
            n_interviewers=params.n_interviewers, rng=rng,
        )


DESIGN = SRSDesign()


# ---------------------------------------------------------------------------
# Monte Carlo check helpers (used by the SRS-unbiasedness tests of any statistic)
# ---------------------------------------------------------------------------


def replicate_statistic(
    design_name: str,
    pop: pd.DataFrame,
    n: int,
    reps: int,
    stat,
    root: int = 0,
    params: dict | None = None,
    pop_index: int = 0,
) -> np.ndarray:
    """``stat(sample)`` (a 1-d array-like) over ``reps`` draws of a design: shape (reps, k).

    Seeds follow Contract 6: preparation ("prepare", pop_index, design) once, sample r
    ("sample", pop_index, r), so results are reproducible and paired across designs.
    """
    design = get_design(design_name)
    p = design.Params.model_validate(params or {})
    state = design.prepare(pop, p, rng_for(root, "prepare", pop_index, design_name))
    out = [
        np.atleast_1d(np.asarray(stat(design.draw(pop, state, n, p, rng_for(root, "sample", pop_index, r))),
                                 dtype=float))
        for r in range(reps)
    ]
    return np.vstack(out)


def bias_table(
    estimates: np.ndarray, truth: np.ndarray, names: list[str] | None = None, z_max: float = 4.0
) -> pd.DataFrame:
    """Per column: mean estimate, truth, bias, its MC standard error sd/sqrt(R), z, and
    ``ok`` = |z| < z_max (4 gives a two-sided false-alarm rate of 6e-5 per quantity;
    with k quantities use a Bonferroni-style larger z_max). NaN estimates (failed fits)
    are dropped per column and counted in ``n_ok``."""
    est = np.atleast_2d(np.asarray(estimates, dtype=float))
    truth = np.broadcast_to(np.asarray(truth, dtype=float), est.shape[1:])
    n_ok = np.sum(np.isfinite(est), axis=0)
    mean = np.nanmean(est, axis=0)
    mcse = np.nanstd(est, axis=0, ddof=1) / np.sqrt(n_ok)
    bias = mean - truth
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(mcse > 0, bias / mcse, np.where(bias == 0, 0.0, np.inf))
    return pd.DataFrame(
        {"mean": mean, "truth": truth, "bias": bias, "mcse": mcse, "z": z, "n_ok": n_ok,
         "ok": np.abs(z) < z_max},
        index=names,
    )
