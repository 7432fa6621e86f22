"""The design template: what every sampling design is, and the steps all of them share.

A design is named parameters, an optional one-off preparation per population
(network, venues, reach), and a draw of n respondents from (population, rng). The
closing steps are the same for every design and live here, in ``BaseDesign.draw``:

1. check n (a positive integer, at most the population size: ``check_n``);
2. build the per-population state if the caller passed none (``prepare``);
3. the design's own selection (``select``, the only method a design must write);
4. the survey artefacts (``designs.artefacts.apply_artefacts``, same rng);
5. the weighting remedy (``designs.weighting.apply_weighting``; off by default).

Adding a design is one file in this package, ``designs/<name>.py``::

    class MyParams(DesignParams):          # artefacts and weighting come with the base
        n_interviewers: int = Field(48, ge=1)

    class MyDesign(BaseDesign):
        name = "<name>"                     # the module's name
        Params = MyParams

        def select(self, pop, state, n, params, rng):
            rows = rng.choice(len(pop), size=n, replace=False)
            return assemble_sample(pop, rows, design=self.name, rng=rng,
                                   n_interviewers=params.n_interviewers)

    DESIGN = MyDesign()

``sim_refugee.designs`` finds every module of the package that is not infrastructure
(``base``, ``artefacts``, ``weighting``, names starting with ``_``) and imports it on
first use; its ``DESIGN`` is the design. A design defined elsewhere (a test, a user's
project) is added with ``sim_refugee.designs.register_design(MyDesign())``. The
contract tests (tests/designs/test_contract.py) run over every design so found.

``select`` returns the Contract-1 sample frame (``assemble_sample`` builds it) and may
use ``rng``; the steps after it draw from the same rng, so a design's samples depend
only on (population, state, n, params, rng).
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

import numpy as np
import pandas as pd

from sim_refugee.designs.artefacts import (
    SAMPLE_EXTRA_COLUMNS,
    ArtefactParams,
    apply_artefacts,
    check_n,
)
from sim_refugee.designs.weighting import WeightingParams, apply_weighting
from sim_refugee.validation import FrozenModel

#: The frozen params model of designs, under the name the designs have always used.
StrictModel = FrozenModel


class DesignParams(FrozenModel):
    """Parameters every design has: the survey artefacts (all off by default but the
    paper's item nonresponse) and the post-survey weighting (off by default)."""

    artefacts: ArtefactParams = ArtefactParams()
    weighting: WeightingParams = WeightingParams()


class Design(Protocol):
    """A sampling design. Implementations are objects with these members."""

    name: ClassVar[str]
    Params: ClassVar[type[FrozenModel]]

    def prepare(self, pop: pd.DataFrame, params: Any, rng: np.random.Generator) -> Any:
        """Structures built once per population (None when the design needs none)."""

    def draw(
        self, pop: pd.DataFrame, state: Any, n: int, params: Any, rng: np.random.Generator
    ) -> pd.DataFrame:
        """n sampled rows with the sample columns of docs/ARCHITECTURE.md, Contract 1."""


class BaseDesign:
    """The template: ``draw`` runs the shared steps around the design's ``select``."""

    name: ClassVar[str]
    Params: ClassVar[type[DesignParams]]

    def prepare(self, pop: pd.DataFrame, params: Any, rng: np.random.Generator) -> Any:
        """Structures built once per population; none by default."""
        return None

    def select(
        self, pop: pd.DataFrame, state: Any, n: int, params: Any, rng: np.random.Generator
    ) -> pd.DataFrame:
        """The design's own selection of n respondents (Contract-1 frame, before
        artefacts and weighting). Every design implements it."""
        raise NotImplementedError(f"design {self.name!r} does not implement select()")

    def draw(
        self, pop: pd.DataFrame, state: Any, n: int, params: Any, rng: np.random.Generator
    ) -> pd.DataFrame:
        """n respondents: check n, prepare if needed, select, artefacts, weighting."""
        check_n(n, pop)
        if state is None:
            state = self.prepare(pop, params, rng)
        sample = self.select(pop, state, n, params, rng)
        # the population's attrs (selection, site quotas) are for the designs, not the
        # sample; kept, pandas would deep-copy them at every column operation downstream
        sample.attrs = {}
        sample = apply_artefacts(sample, pop, params.artefacts, rng)
        return apply_weighting(sample, pop, params.weighting)


__all__ = [
    "SAMPLE_EXTRA_COLUMNS",
    "BaseDesign",
    "Design",
    "DesignParams",
    "StrictModel",
]
