"""Estimator recovery in anyone's tests: Monte Carlo-aware assertions.

::

    from sim_refugee.testing import recovery
    res = recovery(draw, estimate, truth=2.0, reps=400, seed=1)   # draw(rng), estimate(data)
    res.assert_unbiased().assert_coverage()

``recovery`` runs keyed replications (``sim_refugee.seeds``), optionally in parallel, and
returns a :class:`Recovery` with the Morris, White & Crowther measures and their Monte
Carlo SEs; its ``assert_*`` methods bound each measure by a multiple of its MCSE and name
the seed when they fail. ``Recovery.from_arrays`` wraps replicates computed elsewhere,
``from_results`` one design of an engine run. The pytest plugin (``plugin``) adds keyed
per-test seeds and ``--recovery-reps``. Guide: docs/TESTING.md.

Names are imported lazily: the plugin is loaded by every pytest run in an environment
where sim_refugee is installed and must not pull in pandas, scipy and xarray.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["Recovery", "from_results", "recovery"]

_WHERE = {"Recovery": "result", "recovery": "runner", "from_results": "runner"}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
