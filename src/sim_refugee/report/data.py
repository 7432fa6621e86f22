"""What a report reads: a run folder's manifest, collected results and diagnosis.

A *run folder* is what ``sim-refugee run`` writes (``manifest.json``, ``results.nc``,
optionally ``diagnostics.nc`` from ``sim-refugee diagnose``). The report prefers the
kept ``diagnostics.nc`` (so it regenerates from kept results without recomputing) and
falls back to ``diagnosis.diagnose`` of ``results.nc``. Replication-level summaries
(shares of focus terms covered per replication) need ``results.nc``; without it those
figures are skipped and the report says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from sim_refugee.errors import UserInputError
from sim_refugee.io import NETCDF_ENGINE
from sim_refugee.suite.specs import EXPERIENTIAL as _SUITE_EXPERIENTIAL
from sim_refugee.suite.specs import T7_ITEMS  # the seven Table 7 items, paper's column order

#: The five experiential regressors of Table 7 (the paper's headline variables), in the
#: order the figures show them (the famine pair first); the suite's set, reordered.
_FIGURE_ORDER = ("foodaid", "death")
EXPERIENTIAL: tuple[str, ...] = (
    *_FIGURE_ORDER, *(v for v in _SUITE_EXPERIENTIAL if v not in _FIGURE_ORDER)
)
#: Table 9 2SPLS terms the claims read (employment equation) and the feedback term.
T9_FOCUS: tuple[str, ...] = (
    "t9_2spls_job:avgpsych", "t9_2spls_job:years_in_china", "t9_2spls_job:children",
    "t9_2spls_job:trafficking", "t9_2spls_psych:job",
)
#: Claims about the experiential variables (the paper's headline conclusions).
KEY_CLAIMS: tuple[str, ...] = (
    "death_all7", "foodaid_all7", "camp_6of7", "trafficking_6of7", "arrest_4of7",
    "famine_largest_all7", "experiential_dwarf_demographic", "avgpsych_job",
)


def focus_terms(model_terms: list[str] | np.ndarray) -> list[str]:
    """Table 7 experiential terms (item-major) and the Table 9 2SPLS focus terms present."""
    have = {str(x) for x in model_terms}
    t7 = [f"t7_{it}:{v}" for v in EXPERIENTIAL for it in T7_ITEMS]
    return [t for t in (*t7, *T9_FOCUS) if t in have]


@dataclass
class RunData:
    """One run folder, loaded: manifest, diagnosis and (if kept) the collected results."""

    path: Path
    manifest: dict[str, Any]
    diag: xr.Dataset
    results: xr.Dataset | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.manifest.get("name") or self.manifest.get("config", {})
                   .get("experiment", {}).get("name") or self.path.name)

    @property
    def grid_keys(self) -> list[str]:
        """Swept keys: the config's grid keys (``sample.n`` included when swept)."""
        return [str(k) for k in self.manifest.get("grid_keys", [])]

    def condition_overrides(self) -> list[dict[str, Any]]:
        return [dict(c.get("overrides", {})) for c in self.manifest.get("conditions", [])]


def load_run(path: str | Path) -> RunData:
    """Load a run folder; UserInputError naming the folder/file if something is missing."""
    from sim_refugee.diagnosis import diagnose

    p = Path(path)
    if not p.is_dir():
        raise UserInputError(f"run folder {str(p)!r} does not exist", key="DIR")
    man_path = p / "manifest.json"
    if not man_path.is_file():
        raise UserInputError(f"{str(p)!r} holds no run (no manifest.json)", key="DIR")
    try:
        manifest = json.loads(man_path.read_text())
    except json.JSONDecodeError as exc:
        raise UserInputError(f"{str(man_path)!r} is not valid JSON: {exc}", key="manifest.json") from exc

    results = None
    res_path = p / "results.nc"
    if res_path.is_file():
        with xr.open_dataset(res_path, engine=NETCDF_ENGINE) as ds:
            results = ds.load()
    diag_path = p / "diagnostics.nc"
    notes: list[str] = []
    if diag_path.is_file():
        with xr.open_dataset(diag_path, engine=NETCDF_ENGINE) as ds:
            diag = ds.load()
    elif results is not None:
        diag = diagnose(results)
        notes.append("diagnostics.nc absent: diagnosis computed from results.nc")
    else:
        raise UserInputError(
            f"{str(p)!r} has neither diagnostics.nc nor results.nc "
            "(run `sim-refugee collect` and `sim-refugee diagnose` first)",
            key="DIR",
        )
    for var in ("value", "mcse"):
        if var not in diag:
            raise UserInputError(f"{str(p)!r}: diagnostics lack variable {var!r}", key=var)
    return RunData(p, manifest, diag, results, notes)


def per_replication_share(
    results: xr.Dataset, terms: list[str], kind: str = "coverage"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-replication share of ``terms`` that cover (or reject), its mean and MCSE.

    kind: "coverage" (|est - census| <= 1.96 se), "power" (p < 0.05) or "positive"
    (est > 0 and p < 0.05, the direction of the paper's experiential claims).

    Averaging a measure over terms from the diagnosis would need the correlation
    between terms for an MCSE; computing the share within each replication first and
    then its mean over replications gives the MCSE directly (sd / sqrt(R)).
    Only replications whose fits of all ``terms`` succeeded count.
    Returns (mean, mcse, n) with dims (condition, design).
    """
    from sim_refugee.diagnosis.measures import ALPHA, Z975

    est = results["estimates"].sel(model_term=terms)
    e = est.sel(statistic="estimate")
    s = est.sel(statistic="se")
    pv = est.sel(statistic="pvalue")
    theta = results["estimand"].sel(model_term=terms, statistic="estimate")
    models = [t.split(":", 1)[0] for t in terms]
    mstat = results["model_status"].sel(model=sorted(set(models)))
    ok_models = (mstat == "ok").all("model") & (results["rep_status"] == "ok")
    finite = np.isfinite(e) & np.isfinite(s)
    good = ok_models & finite.all("model_term")
    if kind == "coverage":
        ind = (np.abs(e - theta) <= Z975 * s)
    elif kind == "power":
        ind = pv < ALPHA
    elif kind == "positive":
        ind = (pv < ALPHA) & (e > 0)
    else:
        raise ValueError(f"kind must be 'coverage', 'power' or 'positive', got {kind!r}")
    share = ind.mean("model_term").where(good)
    share = share.stack(sim=("population", "replication"))
    n = np.isfinite(share).sum("sim")
    mean = share.mean("sim", skipna=True)
    sd = share.std("sim", ddof=1, skipna=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        mcse = sd / np.sqrt(n)
    dims = ("condition", "design")
    return (mean.transpose(*dims).values, mcse.transpose(*dims).values,
            n.transpose(*dims).values)
