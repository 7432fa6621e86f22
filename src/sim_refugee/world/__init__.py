"""The world: a calibrated synthetic refugee population (Contract 2).

``WorldConfig`` defines a condition; ``build_population(cfg, seed_seq)`` builds the
population frame (Contract 1 columns), calibrated inside so that the expected
paper-design sample (or the population) hits the paper's documented margins.
"""

from sim_refugee.world.calibrate import CalibrationError, CalibrationResult
from sim_refugee.world.config import WorldConfig
from sim_refugee.world.generator import COLUMNS, build_population, build_population_with_calibration
from sim_refugee.world.reach import SITES, ReachParams, reach_propensity

__all__ = [
    "COLUMNS",
    "SITES",
    "CalibrationError",
    "CalibrationResult",
    "ReachParams",
    "WorldConfig",
    "build_population",
    "build_population_with_calibration",
    "reach_propensity",
]
