"""Figures (PNG) and the Markdown report of a diagnosed run (``sim-refugee report DIR``)."""

from sim_refugee.report.build import fmt, make_report, sweep_axis
from sim_refugee.report.data import (
    EXPERIENTIAL,
    KEY_CLAIMS,
    T7_ITEMS,
    RunData,
    focus_terms,
    load_run,
    per_replication_share,
)

__all__ = [
    "EXPERIENTIAL",
    "KEY_CLAIMS",
    "T7_ITEMS",
    "RunData",
    "fmt",
    "focus_terms",
    "load_run",
    "make_report",
    "per_replication_share",
    "sweep_axis",
]
