"""The engine's pluggable unit of work (docs/ARCHITECTURE.md, Contract 6).

A *unit* says what one replication is: how to build a population from a seed, how to
prepare and draw each design, what to fit on a sample (-> a ``Record`` of arrays aligned
on the unit's ``Layout``) and what the estimand is (the same fit on the census). The
engine knows nothing else about the science, so the toy unit used in the engine's own
tests and the real paper-suite unit run through exactly the same code.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from pydantic import BaseModel

from sim_refugee.errors import UserInputError

STATISTICS: tuple[str, ...] = ("estimate", "se", "pvalue")
STAGES: tuple[str, ...] = ("world", "prepare", "sample", "fit", "claims", "nonprob")
OK = "ok"


@dataclass(frozen=True)
class Layout:
    """The fixed shape of every record of a unit (same for every sample)."""

    model_terms: tuple[tuple[str, str], ...]
    claims: tuple[str, ...]
    scalars: tuple[str, ...]

    @property
    def models(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for m, _ in self.model_terms:
            seen.setdefault(m, None)
        return tuple(seen)

    @property
    def labels(self) -> tuple[str, ...]:
        """``model:term`` strings: the ``model_term`` coordinate."""
        return tuple(f"{m}:{t}" for m, t in self.model_terms)


@dataclass
class Record:
    """One replication (or the census fit) as arrays aligned on a ``Layout``."""

    estimates: np.ndarray  # (model_term, statistic) float64
    model_status: np.ndarray  # (model,) str
    claims: np.ndarray  # (claim,) float64: 1.0 / 0.0 / NaN (not evaluable)
    scalars: np.ndarray  # (scalar,) float64
    timings: dict[str, float] = field(default_factory=dict)
    status: str = OK  # the replication as a whole: "ok" or "error"
    message: str = ""

    @classmethod
    def failed(cls, layout: Layout, message: str, status: str = "error") -> Record:
        """The record of a replication whose unit raised: all NaN, every model 'error'."""
        return cls(
            estimates=np.full((len(layout.model_terms), len(STATISTICS)), np.nan),
            model_status=np.array([status] * len(layout.models), dtype=object),
            claims=np.full(len(layout.claims), np.nan),
            scalars=np.full(len(layout.scalars), np.nan),
            status=status,
            message=message,
        )


class Unit(Protocol):
    """What the engine needs from a unit (see module docstring)."""

    name: str

    def validate_world(self, world: dict[str, Any]) -> BaseModel: ...
    def validate_params(self, params: dict[str, Any]) -> BaseModel: ...
    def check_design(self, name: str, key: str) -> None: ...
    def validate_design_params(self, name: str, params: dict[str, Any]) -> BaseModel: ...
    def population_size(self, world: BaseModel) -> int: ...
    def layout(self, world: BaseModel, params: BaseModel) -> Layout: ...
    def build_population(
        self, world: BaseModel, params: BaseModel, seq: np.random.SeedSequence
    ) -> Any: ...
    def prepare(self, pop: Any, design: str, dparams: BaseModel, rng: np.random.Generator) -> Any: ...
    def replicate(
        self,
        pop: Any,
        state: Any,
        design: str,
        n: int,
        dparams: BaseModel,
        params: BaseModel,
        rng: np.random.Generator,
        rep: int,
    ) -> Record: ...
    def estimand(self, pop: Any, world: BaseModel, params: BaseModel) -> Record: ...


_UNITS = {
    "paper_suite": "sim_refugee.engine.unit_suite",
    "convref": "sim_refugee.engine.unit_convref",
    "toy": "sim_refugee.engine.unit_toy",
}
UNIT_NAMES: tuple[str, ...] = tuple(_UNITS)


def get_unit(name: str, key: str = "unit") -> Unit:
    """The unit called ``name`` (module attribute ``UNIT``); UserInputError if unknown."""
    if name not in _UNITS:
        raise UserInputError(
            f"config key {key!r}: unknown unit {name!r}; known units: {', '.join(UNIT_NAMES)}",
            key=key,
        )
    return importlib.import_module(_UNITS[name]).UNIT
