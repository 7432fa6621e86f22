"""The paper's own design: a site-based convenience sample (sec. I, fn. 2-3).

11 city sites, 48 interviewers nested in sites; each site fills its quota share of the n
interviews by reaching refugees in its catchment with probability proportional to a
reachability propensity (``sim_refugee.world.reach``: urban residence, border-province
origin, Korean-Chinese host, church/NGO tie, time in China, distress, worker
occupation, each a named odds ratio); people outside every catchment are never reached.
Within a site, n_s people are drawn without replacement with probability proportional
to reach (Efraimidis-Spirakis keys u^(1/reach), the standard one-pass method for
weighted sampling without replacement; numpy's ``choice(replace=False, p=...)`` is
sequential and slow for large n).

Inclusion probabilities are unknown to the analyst: ``incl_prob`` and ``weight`` are NaN;
``true_incl_prob`` holds the successive-sampling approximation 1 - exp(-lam_s reach_i)
(``world.reach.successive_sampling_pi``) for diagnostics only. Survey artefacts
(duplicates, memorised answers, nonresponse, interviewer effects) and the optional
weighting remedy (off by default; raking starts from weight 1, the analyst knowing no
design weight) follow in ``BaseDesign.draw``, as for every design.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from sim_refugee.designs.base import BaseDesign, DesignParams
from sim_refugee.errors import UserInputError, require_columns
from sim_refugee.targets import assumption_defaults
from sim_refugee.world.reach import (
    REACH_COLUMNS,
    SITES,
    ReachParams,
    allocate_interviews,
    largest_remainder,
    reach_propensity,
    site_codes,
    successive_sampling_pi,
)


def _default_quotas() -> dict[str, float]:
    d = assumption_defaults()
    return {s: float(d[f"site.share.{s}"]) for s in SITES}


class PaperParams(DesignParams):
    """reach: selection odds ratios; None = the selection the population was calibrated
    under (``pop.attrs['selection']``), else the defaults.
    site_quota: share of the interviews per site; None = the population's
    ``attrs['site_quotas']`` (the catchment shares), else the assumption defaults.
    n_interviewers: interviewers (48 in the paper), nested in sites in proportion to quota.
    """

    reach: ReachParams | None = None
    site_quota: dict[str, float] | None = None
    n_interviewers: int = Field(48, ge=len(SITES))

    @field_validator("site_quota")
    @classmethod
    def _known_sites(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        if v is None:
            return v
        for site, q in v.items():
            if site not in SITES:
                raise ValueError(f"unknown site {site!r}; sites: {', '.join(SITES)}")
            if q < 0:
                raise ValueError(f"site_quota[{site!r}] must be >= 0, got {q}")
        if sum(v.values()) <= 0:
            raise ValueError("site_quota must have a positive total")
        return v


@dataclass
class PaperState:
    """Per-population structures: reach per person and site code (-1 = no catchment)."""

    reach: np.ndarray
    site: np.ndarray
    quotas: np.ndarray  # normalised, aligned with SITES
    interviewers: np.ndarray  # interviewers per site, aligned with SITES


class PaperDesign(BaseDesign):
    """Site-based convenience sampling with reach-proportional selection."""

    name: ClassVar[str] = "paper"
    Params: ClassVar[type[DesignParams]] = PaperParams

    def prepare(self, pop: pd.DataFrame, params: PaperParams, rng: np.random.Generator
                ) -> PaperState:
        """Reach and site of every person (no randomness used)."""
        require_columns(pop, list(REACH_COLUMNS), "population (paper design)")
        reach_p = params.reach
        if reach_p is None:
            sel = pop.attrs.get("selection")
            reach_p = ReachParams(**sel) if sel else ReachParams()
        quotas = params.site_quota or pop.attrs.get("site_quotas") or _default_quotas()
        q = np.array([float(quotas.get(s, 0.0)) for s in SITES])
        q = q / q.sum()
        inter = largest_remainder(params.n_interviewers, np.where(q > 0, q, 0.0), minimum=0)
        inter = np.where((q > 0) & (inter == 0), 1, inter)
        return PaperState(reach_propensity(pop, reach_p), site_codes(pop["home_site"]), q, inter)

    def select(self, pop: pd.DataFrame, state: PaperState, n: int, params: PaperParams,
               rng: np.random.Generator) -> pd.DataFrame:
        """n interviews: quota per site, reach-proportional without replacement."""
        reachable = (state.reach > 0) & (state.site >= 0)
        avail = np.bincount(state.site[reachable], minlength=len(SITES))
        if n > avail.sum():
            raise UserInputError(
                f"n={n} exceeds the {avail.sum()} people the paper design can reach", key="n")
        n_site = allocate_interviews(n, state.quotas, avail)
        keys = np.full(len(pop), -np.inf)
        u = rng.random(int(reachable.sum()))
        keys[reachable] = np.log(u) / state.reach[reachable]  # larger key = drawn earlier
        rows, site_lab, interviewer, p_true = [], [], [], []
        first_id = np.concatenate([[0], np.cumsum(state.interviewers)[:-1]])
        for s, k in enumerate(n_site):
            if k == 0:
                continue
            members = np.flatnonzero(reachable & (state.site == s))
            top = members[np.argpartition(-keys[members], k - 1)[:k]] if k < len(members) \
                else members
            rows.append(top)
            site_lab.append(np.full(k, SITES[s], dtype=object))
            n_int = max(int(state.interviewers[s]), 1)
            interviewer.append(first_id[s] + rng.permutation(k) % n_int)
            pi = successive_sampling_pi(state.reach[members], int(k))
            p_true.append(pi[np.searchsorted(members, top)])
        rows_a = np.concatenate(rows)
        sample = pop.iloc[rows_a].reset_index(drop=True).copy()
        sample["site"] = np.concatenate(site_lab)
        sample["interviewer"] = np.concatenate(interviewer).astype(np.int64)
        sample["incl_prob"] = np.nan  # unknown to the analyst
        sample["weight"] = np.nan
        sample["design"] = self.name
        sample["true_incl_prob"] = np.concatenate(p_true)
        return sample


DESIGN = PaperDesign()

__all__ = ["DESIGN", "PaperDesign", "PaperParams", "PaperState"]

