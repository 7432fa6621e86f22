"""What every sampling design is: named parameters, an optional one-off preparation
per population (network, venues), and a draw of n respondents from (population, rng)."""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

import numpy as np
import pandas as pd
from pydantic import ConfigDict

from sim_refugee.validation import StrictModel as _StrictBase

SAMPLE_EXTRA_COLUMNS = ("site", "interviewer", "incl_prob", "weight", "design")


class StrictModel(_StrictBase):
    """A frozen pydantic model that rejects unknown keys, coercions (bool/str/float to
    int, str to float or bool) and non-finite numbers; the error names the key
    (``sim_refugee.validation``)."""

    model_config = ConfigDict(frozen=True)


class Design(Protocol):
    """A sampling design. Implementations are modules or objects with these members."""

    name: ClassVar[str]
    Params: ClassVar[type[StrictModel]]

    def prepare(self, pop: pd.DataFrame, params: Any, rng: np.random.Generator) -> Any:
        """Structures built once per population (None when the design needs none)."""

    def draw(
        self, pop: pd.DataFrame, state: Any, n: int, params: Any, rng: np.random.Generator
    ) -> pd.DataFrame:
        """n sampled rows with the sample columns of docs/ARCHITECTURE.md, Contract 1."""
