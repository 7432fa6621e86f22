"""build_population: the calibrated synthetic refugee population (Contract 2)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim_refugee.errors import UserInputError
from sim_refugee.seeds import seed_sequence
from sim_refugee.world.calibrate import CalibrationResult, calibrate, site_quotas
from sim_refugee.world.config import WorldConfig
from sim_refugee.world.extras import ALL_CATEGORIES, EXTRA_COLUMNS
from sim_refugee.world.model import ITEMS, draw_noise

#: VARIABLES.md columns, then the Contract 1 extras.
COLUMNS: tuple[str, ...] = (
    "person_id", "female", "age", "educ", "occupation", "province", "northeast", "pyongyang",
    "urban_origin", "death", "foodaid", "family_missing", "arrest", "camp", "trafficking",
    "years_in_china", "china_spell", "urban_china", "children", *ITEMS, "avgpsych", "job", "dest",
    "prefer_us", "prefer_sk",
    "home_site", "korean_chinese_host", "church_tie", "distress", "age_decades",
    "elementary", "secondary", "postsecondary", "farmer", "trader", "student", "other_job",
    *EXTRA_COLUMNS,  # the further documented numbers (world/extras.py)
)


def _as_seed_seq(seed: np.random.SeedSequence | int) -> np.random.SeedSequence:
    if isinstance(seed, np.random.SeedSequence):
        return seed
    return seed_sequence(seed, "population", 0)  # refuses bools, floats, strings, negatives


def build_population_with_calibration(
    cfg: WorldConfig, seed_seq: np.random.SeedSequence | int
) -> tuple[pd.DataFrame, CalibrationResult]:
    """The population and its calibration record (targets, expected sample, population).
    ``cfg`` may also be a dict of WorldConfig keys (validated strictly)."""
    if not isinstance(cfg, WorldConfig):
        if not isinstance(cfg, dict):
            raise UserInputError(f"cfg must be a WorldConfig or a dict, got {type(cfg).__name__}",
                                 key="world")
        cfg = WorldConfig.from_dict(cfg)
    ss = _as_seed_seq(seed_seq)
    a = cfg.resolved_assumptions()
    z = draw_noise(cfg.size, ss)
    cols, res = calibrate(z, a, cfg.effects, cfg.calibration, cfg.selection, cfg.targets,
                          cfg.calibration_tol, cfg.calibration_n)
    del z
    pop = population_frame(cols)
    pop.attrs["selection"] = cfg.selection.model_dump()
    pop.attrs["site_quotas"] = site_quotas(a)
    return pop, res


def population_frame(cols: dict[str, np.ndarray], rows: np.ndarray | None = None) -> pd.DataFrame:
    """The Contract 1 frame of the generator's integer-coded columns (``rows``: a subset,
    repeats allowed, in that order; ``person_id`` is the position in the population)."""
    size = len(cols["female"])
    take = np.arange(size) if rows is None else np.asarray(rows, dtype=np.int64)
    out = {}
    for k in COLUMNS:
        if k == "person_id":
            out[k] = take.astype(np.int64)
        elif k in ALL_CATEGORIES:
            out[k] = np.asarray(ALL_CATEGORIES[k], dtype=object)[cols[k][take]]
        else:
            out[k] = cols[k][take] if rows is not None else cols[k]
    return pd.DataFrame(out)


def build_population(cfg: WorldConfig, seed_seq: np.random.SeedSequence | int) -> pd.DataFrame:
    """A population of ``cfg.size`` people with every Contract 1 column.

    Deterministic given (cfg, seed_seq). An int seed means ``seed_sequence(seed,
    "population", 0)``. ``pop.attrs`` carries the selection and site quotas it was
    calibrated under (the paper design uses them by default).
    """
    return build_population_with_calibration(cfg, seed_seq)[0]
