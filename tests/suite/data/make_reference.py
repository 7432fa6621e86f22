"""Make ``suite_reference.json``: the suite's results on fixed samples, from the code
BEFORE the speed-up of issue 17 (commit a93a7fa39314eb7eebaa29b5d8e6f13dc679676e).

The reference must come from the pre-change code, never from the code under test, so
run this script against a checkout of that commit:

    git archive a93a7fa | tar -x -C /tmp/base && cd /path/to/repo && \\
        PYTHONPATH=/tmp/base/src python tests/suite/data/make_reference.py

(the samples come from this repository's ``tests/suite/conftest.py``; their SHA-256 is
stored so that a later change of the generator fails loudly instead of comparing
different samples). ``tests/suite/test_reference.py`` compares the current suite with it.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT))

from tests.suite.conftest import synthetic_sample  # noqa: E402

FIT_MODELS = ["t7_fear", "t7std_fear", "t7yr_hope", "t9_us_p1", "t9_2spls_job",
              "t9_2spls_psych"]


def sample_hash(frame) -> str:
    """SHA-256 of a sample's CSV text (the identity of the input)."""
    return hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()


def degenerate(seed: int):
    """A sample with failing fits: no US preference, an empty occupation, a perfectly
    predicting dummy in the 2SPLS (trader predicts job = 0), a missing education."""
    s = synthetic_sample(seed=seed)
    s["prefer_us"] = 0
    s["dest"] = s["dest"].replace("united_states", "china")
    s.loc[s["occupation"] == "student", "occupation"] = "worker"
    s.loc[s["occupation"] == "trader", "job"] = 0.0
    s.loc[s.index[:25], "educ"] = None
    return s


#: case name -> (sample maker, how the suite is run)
CASES = {
    "default_seed1": (lambda: synthetic_sample(seed=1), {}),
    "weighted_clustered_seed2": (lambda: synthetic_sample(seed=2),
                                 {"weights": "weight", "cluster": "interviewer"}),
    "degenerate_seed3": (lambda: degenerate(3), {}),
    "multistart_seed5": (lambda: synthetic_sample(seed=5, missing=0.08), {"snp_starts": 3}),
    "order0_seed6": (lambda: synthetic_sample(seed=6), {"snp_order": 0,
                                                         "include_variants": False}),
    "census_seed4": (lambda: synthetic_sample(n=4000, seed=4), {"census": True}),
    "fit_models_seed1": (lambda: synthetic_sample(seed=1), {"fit_models": FIT_MODELS}),
}


def _floats(a) -> list:
    return [None if not np.isfinite(v) else float(v) for v in np.asarray(a, dtype=float)]


def run_case(name: str) -> dict:
    from sim_refugee.suite import census_fit, fit_models, run_suite

    make, kw = CASES[name]
    sample = make()
    out = {"sample_sha256": sample_hash(sample), "call": {k: v for k, v in kw.items()}}
    kw = dict(kw)
    if "fit_models" in kw:
        est = fit_models(sample, kw.pop("fit_models"))
        res = None
    elif kw.pop("census", False):
        res = census_fit(sample)
        est = res.estimates
    else:
        res = run_suite(sample, **kw)
        est = res.estimates
    rows = "\n".join(f"{m}|{t}" for m, t in zip(est["model"], est["term"], strict=True))
    out["estimates"] = {
        "rows_sha256": hashlib.sha256(rows.encode()).hexdigest(),
        "estimate": _floats(est["estimate"]), "se": _floats(est["se"]),
        "pvalue": _floats(est["pvalue"]), "nobs": _floats(est["nobs"]),
        "status": est["status"].astype(str).tolist(),
    }
    if res is not None:
        out["scalars"] = {"name": list(res.scalars.index), "value": _floats(res.scalars)}
        out["tests"] = {c: (_floats(res.tests[c]) if c not in ("table", "item")
                            else res.tests[c].astype(str).tolist()) for c in res.tests.columns}
        t = res.tables
        keys = "\n".join("|".join(map(str, r)) for r in
                         t[["table", "item", "level", "group"]].itertuples(index=False))
        out["tables"] = {"keys_sha256": hashlib.sha256(keys.encode()).hexdigest(),
                         **{c: _floats(t[c]) for c in ("count", "pct", "valid_n", "value")}}
    return out


def main() -> None:
    import sim_refugee

    src = Path(sim_refugee.__file__).resolve().parents[2]
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], text=True,
                                capture_output=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    ref = {
        "produced_by": "tests/suite/data/make_reference.py",
        "code_commit": "a93a7fa39314eb7eebaa29b5d8e6f13dc679676e",
        "code_path": str(src),
        "repo_head_when_run": commit,
        "numpy": np.__version__,
        "cases": {name: run_case(name) for name in CASES},
    }
    (HERE / "suite_reference.json").write_text(json.dumps(ref, separators=(",", ":")) + "\n")
    print("wrote", HERE / "suite_reference.json")


if __name__ == "__main__":
    main()
