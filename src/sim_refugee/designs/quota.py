"""Stratified / quota sampling: cells gender x province x age band, convenience inside cells.

Quotas are set per cell from a chosen allocation ("proportional" to the population's
cell counts, which a planner is assumed to know, or "equal" per cell), then filled by
convenience: within a cell a person's chance of being reached is proportional to
exp(reach score), the score being a named linear combination of reachability
channels (urban residence, Korean-Chinese host, church tie, living in a site's
catchment, distress). Cells fix the observables, but selection on the unobservable
part of reach remains, which is the bias this design is meant to expose.

``incl_prob`` is the nominal stratified probability quota_h / N_h (exact when every
reach coefficient is 0, i.e. simple random sampling inside cells); ``weight`` is its
inverse, the post-stratification weight an analyst would use.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from sim_refugee.designs.artefacts import assemble_sample
from sim_refugee.designs.base import BaseDesign, DesignParams
from sim_refugee.errors import UserInputError, require_columns
from sim_refugee.validation import numeric_column

#: default reach coefficients (log-scale, assumptions; the paper gives only their
#: direction: urban bias, help networks, sites' catchments)
DEFAULT_REACH: dict[str, float] = {
    "urban_china": 1.0,
    "korean_chinese_host": 0.5,
    "church_tie": 0.5,
    "in_catchment": 1.5,
    "distress": 0.0,
}


class QuotaParams(DesignParams):
    """age_cuts: age band boundaries (bands [.., c1), [c1, c2), ...), an assumption.
    allocation: "proportional" or "equal" quotas per cell.
    reach: coefficient per reach channel (keys of DEFAULT_REACH; missing keys are 0)."""

    age_cuts: tuple[float, ...] = (30.0, 40.0, 50.0)
    allocation: Literal["proportional", "equal"] = "proportional"
    reach: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_REACH))
    n_interviewers: int = Field(48, ge=1)

    @field_validator("reach")
    @classmethod
    def _known_channels(cls, v: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(v) - set(DEFAULT_REACH))
        if unknown:
            raise ValueError(
                f"unknown reach channel(s) {unknown}; known: {sorted(DEFAULT_REACH)}"
            )
        return v


def reach_score(pop: pd.DataFrame, coefs: dict[str, float]) -> np.ndarray:
    """Linear reach score from the named channels (``in_catchment`` = home_site != "none")."""
    score = np.zeros(len(pop))
    for key, b in coefs.items():
        if b == 0:
            continue
        if key == "in_catchment":
            require_columns(pop, ["home_site"], "population (quota reach 'in_catchment')")
            x = (pop["home_site"].astype(str) != "none").to_numpy(dtype=float)
        else:
            x = numeric_column(pop, key, f"population (quota reach {key!r})")
        score += b * x
    return score


def cell_codes(pop: pd.DataFrame, age_cuts: tuple[float, ...]) -> tuple[np.ndarray, pd.Index]:
    """Integer cell code per person and the cell labels (gender|province|age band)."""
    require_columns(pop, ["female", "province", "age"], "population (quota cells)")
    band = np.searchsorted(np.asarray(age_cuts, dtype=float), pop["age"].to_numpy(float), side="right")
    labels = (
        np.where(pop["female"].to_numpy() == 1, "F", "M").astype(object)
        + "|" + pop["province"].astype(str).to_numpy(dtype=object)
        + "|a" + band.astype(str).astype(object)
    )
    codes, uniques = pd.factorize(labels, sort=True)
    return codes, pd.Index(uniques)


def allocate(n: int, shares: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """Integer quotas summing to n, proportional to ``shares`` (largest remainder), capped.

    Capacity left over by capped cells is re-allocated to the others in proportion.
    """
    quotas = np.zeros(len(shares), dtype=np.int64)
    open_ = caps > 0
    remaining = n
    while remaining > 0 and open_.any():
        s = np.where(open_, shares, 0.0)
        if s.sum() <= 0:
            s = open_.astype(float)
        exact = remaining * s / s.sum()
        add = np.floor(exact).astype(np.int64)
        short = remaining - add.sum()
        if short > 0:
            frac = np.where(open_, exact - add, -1.0)
            add[np.argsort(-frac, kind="stable")[:short]] += 1
        add = np.minimum(add, caps - quotas)
        quotas += add
        remaining = n - quotas.sum()
        open_ = quotas < caps
    return quotas


class QuotaDesign(BaseDesign):
    """Quota sampling in gender x province x age-band cells."""

    name: ClassVar[str] = "quota"
    Params: ClassVar[type[DesignParams]] = QuotaParams

    def prepare(self, pop: pd.DataFrame, params: QuotaParams, rng: np.random.Generator):
        """Cell codes and reach scores (fixed per population)."""
        codes, labels = cell_codes(pop, params.age_cuts)
        return {"codes": codes, "labels": labels, "reach": reach_score(pop, params.reach)}

    def select(
        self, pop: pd.DataFrame, state, n: int, params: QuotaParams, rng: np.random.Generator
    ) -> pd.DataFrame:
        """Fill each cell's quota by reach-proportional selection without replacement."""
        codes, labels = state["codes"], state["labels"]
        sizes = np.bincount(codes, minlength=len(labels))
        shares = sizes / sizes.sum() if params.allocation == "proportional" else np.ones(len(sizes))
        quotas = allocate(n, shares.astype(float), sizes)
        if quotas.sum() < n:
            raise UserInputError(f"n={n} exceeds the population", key="n")
        # Successive sampling proportional to exp(reach) = order by Exp(1) / exp(reach).
        key = rng.exponential(size=len(pop)) * np.exp(-state["reach"])
        order = np.lexsort((key, codes))
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        rows = np.concatenate(
            [order[s : s + q] for s, q in zip(starts, quotas, strict=True) if q > 0]
        )
        cell = codes[rows]
        p = quotas[cell] / sizes[cell]
        return assemble_sample(
            pop, rows, design=self.name, incl_prob=p, weight=1.0 / p,
            n_interviewers=params.n_interviewers, rng=rng,
            extra={"stratum": labels.to_numpy()[cell]},
        )


DESIGN = QuotaDesign()
