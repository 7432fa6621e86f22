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

from sim_refugee.designs.artefacts import ArtefactParams, apply_artefacts, assemble_sample, check_n
from sim_refugee.designs.base import StrictModel


class SRSParams(StrictModel):
    """n_interviewers: interviewers assigned uniformly at random (an assumption)."""

    n_interviewers: int = Field(48, ge=1)
    artefacts: ArtefactParams = ArtefactParams()


class SRSDesign:
    """Simple random sampling without replacement."""

    name: ClassVar[str] = "srs"
    Params: ClassVar[type[StrictModel]] = SRSParams

    def prepare(self, pop: pd.DataFrame, params: SRSParams, rng: np.random.Generator) -> None:
        """SRS needs no structure."""
        return None

    def draw(
        self, pop: pd.DataFrame, state: None, n: int, params: SRSParams,
        rng: np.random.Generator,
    ) -> pd.DataFrame:
        """n persons drawn without replacement; incl_prob n/N, weight N/n."""
        check_n(n, pop)
        big_n = len(pop)
        rows = rng.choice(big_n, size=n, replace=False)
        sample = assemble_sample(
            pop, rows, design=self.name, incl_prob=n / big_n, weight=big_n / n,
            n_interviewers=params.n_interviewers, rng=rng,
        )
        return apply_artefacts(sample, pop, params.artefacts, rng)


DESIGN = SRSDesign()
