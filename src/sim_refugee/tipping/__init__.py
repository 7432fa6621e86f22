"""Selection tipping points (issue 12, part 2): the weakest selection strength at which a
world where a target is false produces it in a given share of samples, or at which a
term's coverage falls below a level.

``rootfind`` is the reusable stochastic root finder (no engine dependency): ``solve``,
``RootSearch``, ``run_searches``, ``GridSpace``, ``IntegerSpace``, ``SolverSettings``.
``config`` validates a tipping config (an engine config plus ``[tipping]``), ``targets``
defines what is counted, ``run`` drives the searches on the engine's tasks and backends,
``output`` and ``figure`` write the results. Guide: docs/TIPPING.md.
"""

from sim_refugee.search.rootfind import (
    GridSpace,
    IntegerSpace,
    Probe,
    Request,
    RootResult,
    RootSearch,
    SolverSettings,
    run_searches,
    solve,
)

__all__ = [
    "GridSpace",
    "IntegerSpace",
    "Probe",
    "Request",
    "RootResult",
    "RootSearch",
    "SolverSettings",
    "run_searches",
    "solve",
]
