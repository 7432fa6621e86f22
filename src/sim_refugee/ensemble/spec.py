"""A world ensemble as declared in an experiment config (``[world.ensemble]``).

An ensemble replaces the single hand-set world by many: the named unknowns vary over
their plausible ranges along a seeded space-filling design (Latin hypercube or scrambled
Sobol points, ``scipy.stats.qmc``), and every other number stays at its default. Each
point is one world, i.e. one condition of the experiment (crossed with the grid, if
any). Keys are dotted paths into the ``[world]`` table, so the same declaration works for
any unit: for the paper suite ``assumptions.<name>`` (a named assumption of
targets/assumptions.yaml) or ``selection.<odds ratio>`` (the paper design's reach);
for the toy unit its own world fields (``mean_y``).

Default ranges come from assumptions.yaml (``range``, with its reason ``range_why``;
``selection.or_x`` reads ``reach.or_x``); any key may be given an explicit range.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, field_validator

from sim_refugee.errors import UserInputError
from sim_refugee.validation import MAX_CONDITIONS
from sim_refugee.validation import StrictModel as _Strict


class EnsembleCalibration(_Strict):
    """How each world is re-solved to the paper's tables (``calibration.solve``): lighter
    than the documented procedure, and started from the shipped solution, since an
    ensemble world differs from the default world only in its varied unknowns."""

    size: int = Field(default=100_000, ge=1_000, le=2_000_000)
    m: int = Field(default=40_000, ge=1_000, le=1_000_000)
    plim_iter: int = Field(default=6, ge=0, le=50)
    sample_iter: int = Field(default=1, ge=0, le=10)
    sample_reps: int = Field(default=40, ge=2, le=1_000)
    correction_iter: int = Field(default=4, ge=0, le=50)
    min_hit_share: float = Field(default=0.8, gt=0, le=1,
                                 description="the world's check passes with at least this "
                                             "share of the 195 cells hit")


class EnsembleSpec(_Strict):
    """[world.ensemble]: which unknowns vary, over what, along which design."""

    worlds: int = Field(ge=2, le=MAX_CONDITIONS)
    method: Literal["lhs", "sobol"] = "lhs"
    seed: int = Field(default=0, ge=0, le=2**63 - 1)
    vary: list[str] = Field(min_length=1)
    ranges: dict[str, list[float]] = Field(default_factory=dict)
    recalibrate: bool = True
    calibration: EnsembleCalibration = Field(default_factory=EnsembleCalibration)

    @field_validator("vary")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        dup = {k for k in v if v.count(k) > 1}
        if dup:
            raise ValueError(f"{sorted(dup)[0]!r} listed twice")
        return v

    @field_validator("ranges")
    @classmethod
    def _pairs(cls, v: dict[str, list[float]]) -> dict[str, list[float]]:
        for k, r in v.items():
            if len(r) != 2 or not r[0] < r[1]:
                raise ValueError(f"range of {k!r} must be [low, high] with low < high, got {r}")
        return v


def default_range(key: str) -> tuple[float, float] | None:
    """The range assumptions.yaml gives a key (None when it has none)."""
    from sim_refugee.targets import assumption_table

    tab = assumption_table().set_index("name")
    if key.startswith("assumptions."):
        name = key.split(".", 1)[1]
    elif key.startswith("selection."):
        name = "reach." + key.split(".", 1)[1]
    else:
        return None
    if name not in tab.index:
        raise UserInputError(f"config key 'world.ensemble.vary': unknown assumption {name!r}",
                             key="world.ensemble.vary")
    rng = tab.loc[name, "range"]
    return None if rng is None or (isinstance(rng, float) and np.isnan(rng)) else (
        float(rng[0]), float(rng[1]))


def resolved_ranges(spec: EnsembleSpec) -> dict[str, tuple[float, float]]:
    """The range of every varied key (explicit, else assumptions.yaml's)."""
    out = {}
    for key in spec.vary:
        if key in spec.ranges:
            lo, hi = spec.ranges[key]
            out[key] = (float(lo), float(hi))
            continue
        rng = default_range(key)
        if rng is None:
            raise UserInputError(
                f"config key 'world.ensemble.ranges': {key!r} has no default range "
                "(assumptions.yaml gives none); declare one", key="world.ensemble.ranges")
        out[key] = rng
    extra = set(spec.ranges) - set(spec.vary)
    if extra:
        key = sorted(extra)[0]
        raise UserInputError(f"config key 'world.ensemble.ranges.{key}': not in vary",
                             key=f"world.ensemble.ranges.{key}")
    return out


def design_points(spec: EnsembleSpec) -> list[dict[str, float]]:
    """The worlds: one dict of varied values per point, from a seeded space-filling
    design on the unit cube scaled to the ranges (the seed is a SeedSequence keyed by
    the ensemble's own seed, so the points do not depend on anything else)."""
    from scipy.stats import qmc

    from sim_refugee.seeds import rng_for

    ranges = resolved_ranges(spec)
    d = len(spec.vary)
    rng = rng_for(spec.seed, "ensemble", spec.method)
    if spec.method == "lhs":
        unit = qmc.LatinHypercube(d=d, seed=rng).random(spec.worlds)
    else:
        unit = qmc.Sobol(d=d, scramble=True, seed=rng).random(spec.worlds)
    lo = np.array([ranges[k][0] for k in spec.vary])
    hi = np.array([ranges[k][1] for k in spec.vary])
    pts = lo + unit * (hi - lo)
    return [{k: float(v) for k, v in zip(spec.vary, row, strict=True)} for row in pts]
