"""Convenience sample plus a small probability reference sample (issue 16).

The paper's site-based convenience sample of n interviews, and beside it an independent
probability sample of ``reference_n`` (a simple random sample, or a time-location
sample), whose design weights let the convenience sample's inclusion propensities be
estimated (Chen, Li & Wu 2020; ``estimators.nonprob_ref.clw_estimate``). A planner can
then price a reference sample against more convenience interviews (``plan.costs``:
``per_reference_interview``).

The draw returns both parts stacked, with ``source`` = "convenience" or "reference";
the reference rows keep their own design's ``incl_prob`` and ``weight`` (the design
weights d of CLW), the convenience rows the paper design's. Analyses that pool all rows
as one sample are wrong for this design: use the reference rows for the propensities
only (the paper suite does not know this yet, so the design is not in the registry of
``sim_refugee.designs``: see ``designs.combined``).

Randomness: the replication's generator is split with ``Generator.spawn`` into one
child for the convenience part and one for the reference part, so changing the
reference size or kind leaves the convenience sample unchanged (common random numbers
when pricing one against the other).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import Field

from sim_refugee.designs.base import StrictModel
from sim_refugee.designs.paper import DESIGN as PAPER
from sim_refugee.designs.paper import PaperParams
from sim_refugee.designs.srs import DESIGN as SRS
from sim_refugee.designs.srs import SRSParams
from sim_refugee.designs.tls import DESIGN as TLS
from sim_refugee.designs.tls import TLSParams


class ConvRefParams(StrictModel):
    """reference_n: size of the probability reference sample (a few hundred);
    reference: its design ("srs" or "tls"); convenience: the paper design's parameters;
    tls: the reference TLS's parameters (reference = "tls")."""

    reference_n: int = Field(300, ge=2)
    reference: Literal["srs", "tls"] = "srs"
    convenience: PaperParams = PaperParams()
    tls: TLSParams = TLSParams()


@dataclass
class ConvRefState:
    """Per-population structures of the two parts (paper reach, TLS venues)."""

    paper: Any
    tls: Any


def draw_convref(pop: pd.DataFrame, n: int, params: ConvRefParams, rng: np.random.Generator,
                 state: ConvRefState | None = None) -> pd.DataFrame:
    """The whole draw: n convenience interviews and ``reference_n`` reference interviews,
    stacked with a ``source`` column (see module docstring)."""
    conv_rng, ref_rng = rng.spawn(2)
    paper_state = state.paper if state is not None else None
    conv = PAPER.draw(pop, paper_state, n, params.convenience, conv_rng)
    if params.reference == "srs":
        ref = SRS.draw(pop, None, params.reference_n, SRSParams(), ref_rng)
    else:
        tls_state = state.tls if state is not None else None
        ref = TLS.draw(pop, tls_state, params.reference_n, params.tls, ref_rng)
    conv = conv.assign(source="convenience")
    ref = ref.assign(source="reference")
    return pd.concat([conv, ref], ignore_index=True)


class ConvRefDesign:
    """Convenience (paper design) + probability reference sample."""

    name: ClassVar[str] = "convref"
    Params: ClassVar[type[StrictModel]] = ConvRefParams

    def prepare(self, pop: pd.DataFrame, params: ConvRefParams, rng: np.random.Generator
                ) -> ConvRefState:
        """The paper design's reach and, for a TLS reference, the venues."""
        tls = TLS.prepare(pop, params.tls, rng) if params.reference == "tls" else None
        return ConvRefState(PAPER.prepare(pop, params.convenience, rng), tls)

    def draw(self, pop: pd.DataFrame, state: ConvRefState | None, n: int,
             params: ConvRefParams, rng: np.random.Generator) -> pd.DataFrame:
        """n convenience + reference_n reference interviews (``draw_convref``)."""
        return draw_convref(pop, n, params, rng, state)


DESIGN = ConvRefDesign()
