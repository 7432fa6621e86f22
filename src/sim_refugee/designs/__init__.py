"""Sampling designs (the data strategy), selectable by name.

Every design is one module of this package, ``designs/<name>.py``, exposing a ``DESIGN``
built on ``sim_refugee.designs.base.BaseDesign`` (the template, with how-to). The
modules are found by listing the package (everything but the infrastructure modules
and names starting with ``_``) and imported on first use, so a design's heavy
dependencies load only when it is asked for. Designs defined outside the package (a
test's, a user's) are added with ``register_design``.
"""

from __future__ import annotations

import importlib
import pkgutil

from sim_refugee.designs.base import BaseDesign, Design, DesignParams, StrictModel
from sim_refugee.errors import UserInputError

#: modules of this package that are not designs
INFRASTRUCTURE: frozenset[str] = frozenset({"base", "artefacts", "weighting"})


def _package_modules() -> dict[str, str]:
    found = sorted(
        m.name for m in pkgutil.iter_modules(__path__)
        if not m.ispkg and not m.name.startswith("_") and m.name not in INFRASTRUCTURE
    )
    return {name: f"{__name__}.{name}" for name in found}


_MODULES: dict[str, str] = _package_modules()
#: the designs shipped with the package (names = module names)
DESIGN_NAMES: tuple[str, ...] = tuple(_MODULES)
_REGISTERED: dict[str, Design] = {}


def register_design(design: Design) -> Design:
    """Make ``design`` selectable by its ``name`` (a design defined outside the package).

    Returns it, so a module can write ``DESIGN = register_design(MyDesign())``. A name
    already taken by another design is refused.
    """
    name = getattr(design, "name", None)
    if not isinstance(name, str) or not name:
        raise ValueError(f"a design needs a non-empty string name, got {name!r}")
    taken = _MODULES.get(name) is not None or (
        name in _REGISTERED and _REGISTERED[name] is not design)
    if taken:
        raise ValueError(f"design name {name!r} is already taken")
    _REGISTERED[name] = design
    return design


def design_names() -> tuple[str, ...]:
    """Every selectable design: the package's, then the registered ones."""
    return DESIGN_NAMES + tuple(n for n in _REGISTERED if n not in _MODULES)


def get_design(name: str) -> Design:
    """The design called ``name``; a UserInputError naming it if there is none."""
    if name in _REGISTERED:
        return _REGISTERED[name]
    if name not in _MODULES:
        raise UserInputError(
            f"unknown design {name!r}; known designs: {', '.join(design_names())}", key="design"
        )
    return importlib.import_module(_MODULES[name]).DESIGN


__all__ = [
    "DESIGN_NAMES",
    "BaseDesign",
    "Design",
    "DesignParams",
    "StrictModel",
    "design_names",
    "get_design",
    "register_design",
]
