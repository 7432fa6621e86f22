"""The Monte Carlo engine: experiment configs, keyed seeds, backends, chunked storage.

``load_experiment(path)`` validates a TOML config; ``run_experiment(exp, out)`` runs it
(serial, loky or dask) into ``out/chunks`` and collects ``out/results.nc``. The unit of
work is pluggable (``engine.units``): the paper suite (default) or a toy unit for tests.
"""

from sim_refugee.engine.config import Experiment, load_experiment, validate_experiment
from sim_refugee.engine.run import run_experiment
from sim_refugee.engine.storage import collect, open_results
from sim_refugee.engine.units import UNIT_NAMES, Layout, Record, Unit, get_unit

__all__ = [
    "UNIT_NAMES",
    "Experiment",
    "Layout",
    "Record",
    "Unit",
    "collect",
    "get_unit",
    "load_experiment",
    "open_results",
    "run_experiment",
    "validate_experiment",
]
