"""A tiny synthetic run folder in the engine's collected-results format.

Two conditions (a ``sample.n`` sweep: 300 and 1346), two designs, eight replications,
three model terms, two claims. One cell (condition c000, design "paper", term
``t7_anxious:foodaid``) is hand-made so that the expected measures can be worked out
by hand in the tests; the other cells are seeded noise. The diagnosis is made by the
diagnosis part (``sim_refugee.diagnosis.diagnose``), not by the report under test.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from sim_refugee.diagnosis import diagnose, write_diagnosis
from sim_refugee.seeds import rng_for

TERMS = ("t7_anxious:foodaid", "t7_fear:foodaid", "t9_2spls_job:avgpsych")
MODELS = ("t7_anxious", "t7_fear", "t9_2spls_job")
CLAIMS = ("death_all7", "foodaid_all7")
DESIGNS = ("paper", "srs")
R = 8
THETA = np.array([0.5, 0.3, -0.4])
SE = 0.1
#: hand-made errors of the key cell: |e| <= 1.96 * 0.1 for 6 of the 8 -> coverage 0.75
KEY_ERR = np.array([0.0, 0.1, -0.1, 0.15, 0.3, -0.3, 0.05, 0.0])
#: hand-made p-values of the key cell: 3 of 8 below 0.05 -> power 0.375
KEY_P = np.array([0.01, 0.2, 0.03, 0.5, 0.04, 0.6, 0.7, 0.9])
#: hand-made claim outcomes, condition c000, design paper, claim foodaid_all7: 5 of 8
KEY_CLAIM = np.array([1, 1, 0, 1, 0, 1, 1, 0], dtype=float)


def synthetic_results() -> xr.Dataset:
    rng = rng_for(7, "report-test-results")
    conds = ["c000", "c001"]
    C, D, T = len(conds), len(DESIGNS), len(TERMS)
    est = np.empty((C, 1, D, R, T, 3))
    err = rng.normal(0.0, SE, (C, 1, D, R, T))
    est[..., 0] = THETA + err
    est[..., 1] = SE
    est[..., 2] = rng.uniform(0, 1, (C, 1, D, R, T))
    est[0, 0, 0, :, 0, 0] = THETA[0] + KEY_ERR
    est[0, 0, 0, :, 0, 2] = KEY_P
    claims = rng.integers(0, 2, (C, 1, D, R, len(CLAIMS))).astype(float)
    claims[0, 0, 0, :, 1] = KEY_CLAIM
    estimand = np.empty((C, 1, T, 3))
    estimand[..., 0] = THETA
    estimand[..., 1] = 0.0
    estimand[..., 2] = 0.0
    ds = xr.Dataset(
        {
            "estimates": (("condition", "population", "design", "replication", "model_term",
                           "statistic"), est),
            "model_status": (("condition", "population", "design", "replication", "model"),
                             np.full((C, 1, D, R, len(MODELS)), "ok")),
            "claims": (("condition", "population", "design", "replication", "claim"), claims),
            "rep_status": (("condition", "population", "design", "replication"),
                           np.full((C, 1, D, R), "ok")),
            "estimand": (("condition", "population", "model_term", "statistic"), estimand),
            "estimand_status": (("condition", "population", "model"),
                                np.full((C, 1, len(MODELS)), "ok")),
            "claim_truth": (("condition", "population", "claim"), np.ones((C, 1, len(CLAIMS)))),
        },
        coords={
            "condition": conds,
            "population": [0],
            "design": list(DESIGNS),
            "replication": np.arange(R),
            "model_term": list(TERMS),
            "statistic": ["estimate", "se", "pvalue"],
            "model": list(MODELS),
            "claim": list(CLAIMS),
            "model_of_term": ("model_term", [t.split(":")[0] for t in TERMS]),
            "term": ("model_term", [t.split(":")[1] for t in TERMS]),
            "condition_label": ("condition", ["sample.n=300", "sample.n=1346"]),
            "n": ("condition", [300, 1346]),
            "design_name": ("design", list(DESIGNS)),
        },
        attrs={"config_hash": "testhash", "root_seed": 7, "unit": "paper_suite"},
    )
    return ds


def manifest() -> dict:
    return {
        "name": "synthetic",
        "config": {"experiment": {"name": "synthetic", "root_seed": 7, "replications": R},
                   "world": {"size": 20000}},
        "config_source": "experiments/synthetic.toml",
        "config_hash": "testhash",
        "root_seed": 7,
        "replications": R,
        "populations": 1,
        "designs": list(DESIGNS),
        "design_names": {d: d for d in DESIGNS},
        "grid_keys": ["sample.n"],
        "conditions": [
            {"key": "c000", "index": 0, "label": "sample.n=300",
             "overrides": {"sample.n": 300}, "n": 300},
            {"key": "c001", "index": 1, "label": "sample.n=1346",
             "overrides": {"sample.n": 1346}, "n": 1346},
        ],
        "versions": {"sim_refugee": "0.1.0", "python": "3.11"},
        "summary": {"seconds": 12.5},
        "backend": {"kind": "serial"},
    }


def write_run(folder: Path, with_diagnostics: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    res = synthetic_results()
    res.to_netcdf(folder / "results.nc", engine="h5netcdf")
    (folder / "manifest.json").write_text(json.dumps(manifest()))
    if with_diagnostics:
        write_diagnosis(diagnose(res), folder)
    return folder


def table_rows(md: str, heading: str) -> pd.DataFrame:
    """The first Markdown table after the line ``heading``, as strings."""
    lines = md.splitlines()
    i = lines.index(heading)
    rows = []
    for line in lines[i + 1:]:
        if line.startswith("|"):
            rows.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif rows:
            break
    return pd.DataFrame(rows[2:], columns=rows[0])
