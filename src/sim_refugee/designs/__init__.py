"""Sampling designs (the data strategy), selectable by name.

Each design lives in its own module, which exposes a ``DESIGN`` object following
``sim_refugee.designs.base.Design``. Modules are imported on first use so that a
design's heavy dependencies load only when it is asked for.
"""

from __future__ import annotations

import importlib

from sim_refugee.designs.base import Design, StrictModel
from sim_refugee.errors import UserInputError

_MODULES = {
    "paper": "sim_refugee.designs.paper",
    "srs": "sim_refugee.designs.srs",
    "quota": "sim_refugee.designs.quota",
    "tls": "sim_refugee.designs.tls",
    "rds": "sim_refugee.designs.rds",
    "snowball": "sim_refugee.designs.snowball",
}
DESIGN_NAMES: tuple[str, ...] = tuple(_MODULES)


def get_design(name: str) -> Design:
    """The design called ``name``; a UserInputError naming it if there is none."""
    if name not in _MODULES:
        raise UserInputError(
            f"unknown design {name!r}; known designs: {', '.join(DESIGN_NAMES)}", key="design"
        )
    return importlib.import_module(_MODULES[name]).DESIGN


__all__ = ["DESIGN_NAMES", "Design", "StrictModel", "get_design"]
