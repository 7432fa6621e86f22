"""Snowball sampling on the social network: every respondent names all their contacts.

Seeds are drawn at random (or from a restricted pool); each respondent, in order of
entry, names every contact not yet in the sample, and each named contact is reached
and agrees with probability ``referral_prob`` x acceptance (as in RDS). No coupon
limit, so the sample piles up in the seeds' communities and toward high degree. No
standard weights exist: ``incl_prob`` and ``weight`` are NaN.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
from pydantic import Field

from sim_refugee.designs.base import BaseDesign, DesignParams
from sim_refugee.designs.rds import _accept_prob, _seed_pool, chain_sample, recruit_chains
from sim_refugee.world.network import Network, NetworkParams, build_network


class SnowballParams(DesignParams):
    """network: the network model (as for RDS). referral_prob: chance a named contact is
    reached. refusal_prob / accept_by: as for RDS."""

    network: NetworkParams = NetworkParams()
    n_seeds: int = Field(10, ge=1)
    seed_pool: dict[str, int | str] = Field(default_factory=dict)
    referral_prob: float = Field(0.5, gt=0.0, le=1.0)
    refusal_prob: float = Field(0.3, ge=0.0, lt=1.0)
    accept_by: dict[str, float] = Field(default_factory=dict)
    n_interviewers: int = Field(48, ge=1)


class SnowballDesign(BaseDesign):
    """Snowball (chain-referral without coupon limits) sampling."""

    name: ClassVar[str] = "snowball"
    Params: ClassVar[type[DesignParams]] = SnowballParams

    def prepare(
        self, pop: pd.DataFrame, params: SnowballParams, rng: np.random.Generator
    ) -> Network:
        """The population's social network."""
        return build_network(pop, params.network, rng)

    def select(
        self, pop: pd.DataFrame, state: Network, n: int, params: SnowballParams,
        rng: np.random.Generator,
    ) -> pd.DataFrame:
        """n respondents by full-referral chains; no weights."""
        net = state
        rows, rec, wave = recruit_chains(
            net, n, _accept_prob(pop, params), _seed_pool(pop, net, params.seed_pool),
            params.n_seeds, coupons=0, recruit_prob=1.0, rng=rng, limit_coupons=False,
            referral_prob=params.referral_prob,
        )
        return chain_sample(pop, net, rows, rec, wave, self.name, params, rng)


DESIGN = SnowballDesign()
