"""A design added with this one file: systematic sampling from a randomly ordered list.

It exists to show (and test) that a new design needs nothing but its own module: the
template (``sim_refugee.designs.base.BaseDesign``) adds the n checks, artefacts and
weighting, and the contract tests (tests/designs/test_contract.py) import every module
of this folder and run on the design it registers.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
from pydantic import Field

from sim_refugee.designs import register_design
from sim_refugee.designs.artefacts import assemble_sample
from sim_refugee.designs.base import BaseDesign, DesignParams


class SystematicParams(DesignParams):
    """n_interviewers: interviewers assigned at random."""

    n_interviewers: int = Field(10, ge=1)


class SystematicDesign(BaseDesign):
    """Every k-th person of a shuffled list from a random start (k = N / n, fractional)."""

    name: ClassVar[str] = "test_systematic"
    Params: ClassVar[type[DesignParams]] = SystematicParams

    def select(self, pop: pd.DataFrame, state: None, n: int, params: SystematicParams,
               rng: np.random.Generator) -> pd.DataFrame:
        """n persons, each with inclusion probability n/N."""
        big_n = len(pop)
        order = rng.permutation(big_n)
        step = big_n / n
        rows = order[np.floor(rng.uniform(0, step) + step * np.arange(n)).astype(np.int64)]
        return assemble_sample(pop, rows, design=self.name, incl_prob=n / big_n,
                               weight=big_n / n, n_interviewers=params.n_interviewers, rng=rng)


DESIGN = register_design(SystematicDesign())
