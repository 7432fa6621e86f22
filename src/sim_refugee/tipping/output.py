"""What a tipping run writes: ``tipping.csv`` (one row per target and map row),
``probes.csv`` (every probed point), ``tipping.json`` (config, seeds, versions, counts)
and ``tipping.png`` (the figure). Everything is rendered in memory first and then each
file is written atomically (temporary file + rename), so a failure leaves no partial
output.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import pandas as pd

from sim_refugee.engine.storage import package_versions
from sim_refugee.io import write_files
from sim_refugee.tipping.run import STREAM, TippingRun

#: The columns of tipping.csv, in order (ray runs add one ``at:<parameter>`` per parameter).
COLUMNS: tuple[str, ...] = (
    "target", "kind", "threshold", "parameter", "value", "ci_low", "ci_high", "replications",
    "status", "map_parameter", "map_value", "truth", "share_at_value", "share_mcse",
    "confirm_replications", "bracket_low", "bracket_high", "failures", "ci_level",
    "tolerance", "description",
)


def _nan(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else x


def results_frame(run: TippingRun) -> pd.DataFrame:
    """tipping.csv as a DataFrame (threshold: the share for claims and terms, the
    coverage level for coverage targets)."""
    cfg = run.cfg
    tol = cfg.solver.tolerance or (cfg.space.value(cfg.space.size) - cfg.space.value(0)) / 100
    rows = []
    for row, t, res in run.results:
        tg = cfg.targets[t]
        rec: dict[str, Any] = {
            "target": tg.label,
            "kind": tg.kind,
            "threshold": 1.0 - tg.threshold if tg.kind == "coverage" else tg.threshold,
            "parameter": cfg.direction.label,
            "value": res.value,
            "ci_low": res.ci_low,
            "ci_high": res.ci_high,
            "replications": res.replications,
            "status": res.status,
            "map_parameter": cfg.map_parameter or "",
            "map_value": cfg.map_values[row] if cfg.map_parameter else math.nan,
            "truth": run.truth.get((row, t), math.nan),
            "share_at_value": (1.0 - res.share_at_value if tg.kind == "coverage"
                               else res.share_at_value),
            "share_mcse": res.share_mcse,
            "confirm_replications": res.confirm_replications,
            "bracket_low": res.bracket_low,
            "bracket_high": res.bracket_high,
            "failures": run.failures.get((row, t), 0),
            "ci_level": cfg.solver.ci_level,
            "tolerance": tol,
            "description": tg.description,
        }
        if cfg.direction.is_ray:
            at = (cfg.direction.point(res.value) if math.isfinite(res.value)
                  else dict.fromkeys(cfg.direction.parameters, math.nan))
            for p in cfg.direction.parameters:
                rec[f"at:{p}"] = at[p]
        rows.append(rec)
    return pd.DataFrame(rows)


def probes_frame(run: TippingRun) -> pd.DataFrame:
    """probes.csv: every probed point of every search (share: of the target's events;
    for coverage targets the share of intervals that cover)."""
    cfg = run.cfg
    rows = []
    for row, t, res in run.results:
        tg = cfg.targets[t]
        for pr in res.probes:
            share = pr.events / pr.m
            rows.append({
                "target": tg.label,
                "map_value": cfg.map_values[row] if cfg.map_parameter else math.nan,
                "k": pr.k, "value": pr.x, "replications": pr.m, "events": pr.events,
                "share": 1.0 - share if tg.kind == "coverage" else share,
                "decision": pr.decision,
            })
    return pd.DataFrame(rows, columns=["target", "map_value", "k", "value", "replications",
                                       "events", "share", "decision"])


def manifest(run: TippingRun, frame: pd.DataFrame) -> dict[str, Any]:
    """tipping.json: how the result was obtained."""
    cfg = run.cfg
    d = cfg.direction
    return {
        "name": cfg.experiment.file.experiment.name,
        "config": cfg.raw,
        "config_source": cfg.source,
        "config_hash": cfg.config_hash,
        "root_seed": cfg.experiment.root_seed,
        "unit": cfg.experiment.unit_name,
        "design": cfg.design,
        "seeds": (f"replication r at grid index k: rng_for(root_seed, {STREAM!r}, k, r); "
                  "population: rng_for(root_seed, 'population', 0)"),
        "direction": {"label": d.label, "parameters": list(d.parameters),
                      "origin": list(d.origin), "step": list(d.step), "scale": d.scale,
                      "lower": d.lower, "upper": d.upper, "integer": d.integer,
                      "grid_points": cfg.space.size + 1},
        "map": ({"parameter": cfg.map_parameter, "values": list(cfg.map_values)}
                if cfg.map_parameter else None),
        "solver": cfg.solver.model_dump(),
        "targets": [{"label": t.label, "kind": t.kind, "ref": t.ref,
                     "event_share_threshold": t.threshold, "alpha": t.alpha,
                     "sign": t.sign} for t in cfg.targets],
        "replications_computed": run.computed,
        "replications_used": int(frame["replications"].sum()) if len(frame) else 0,
        "rounds": run.rounds,
        "seconds": run.seconds,
        "backend": run.backend,
        "versions": package_versions(),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "results": [{k: _nan(v) for k, v in r.items()} for r in frame.to_dict("records")],
    }


def write_outputs(run: TippingRun, out: str | Path) -> dict[str, Path]:
    """Render everything, then write each file atomically into ``out``."""
    from sim_refugee.tipping.figure import tipping_figure_png

    frame = results_frame(run)
    texts = {
        "tipping.csv": frame.to_csv(index=False),
        "probes.csv": probes_frame(run).to_csv(index=False),
        "tipping.json": json.dumps(manifest(run, frame), indent=2, default=str) + "\n",
    }
    png = tipping_figure_png(run, frame)
    return write_files(out, {**texts, "tipping.png": png})
