"""The shipped table-calibration solution: written with its provenance, read by the world.

The file (``targets/tables_solution.json``, package data) holds ``values`` (every solved
effect parameter) and ``meta``: the code version and seed that produced it, the
solver's settings, its run time, and the check at the solution. ``targets.
assumption_defaults`` overlays the values on assumptions.yaml, so building a population
never recalibrates; ``sim-refugee calibrate-tables`` reruns the documented procedure.
"""

from __future__ import annotations

import json
import platform
import subprocess
from importlib import resources
from pathlib import Path

from sim_refugee import __version__
from sim_refugee.calibration.solve import TableSolution
from sim_refugee.io import atomic_write_text


def shipped_path() -> Path:
    """Where the package keeps its solution (inside the source tree when installed
    in editable mode)."""
    return Path(str(resources.files("sim_refugee.targets").joinpath("tables_solution.json")))


def code_version() -> dict[str, object]:
    """Package version, and the git commit and dirty files under src/ when run from a
    checkout (None outside one)."""
    here = Path(__file__).resolve().parent
    out: dict[str, object] = {"package": __version__, "python": platform.python_version()}
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "."], cwd=here.parent,
                               capture_output=True, text=True, timeout=10,
                               check=True).stdout.split("\n")
        out["git_commit"] = commit
        out["git_dirty_files_under_src"] = [d[3:] for d in dirty if d.strip()]
    except (OSError, subprocess.SubprocessError):
        out["git_commit"] = None
    return out


def solution_document(sol: TableSolution, settings: dict, check: dict | None) -> dict:
    """The JSON document of a solution."""
    return {
        "meta": {
            "what": "effect parameters solved so the paper design's expected Table 7 and "
                    "Table 9 estimates match the printed patterns (sim_refugee.calibration)",
            "procedure": "sim-refugee calibrate-tables " + " ".join(
                f"--{k.replace('_', '-')} {v}" for k, v in settings.items()),
            "settings": settings,
            "code_version": code_version(),
            "solver": {k: v for k, v in sol.meta.items()},
            "converged": bool(sol.converged),
            "calibration_hits": int(sol.cells["hit"].sum()),
            "check": check,
        },
        "values": {k: round(float(v), 10) for k, v in sorted(sol.theta.items())},
    }


def write_solution(doc: dict, path: str | Path) -> None:
    """Write the document atomically."""
    atomic_write_text(path, json.dumps(doc, indent=1) + "\n")
