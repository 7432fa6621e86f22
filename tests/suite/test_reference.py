"""The suite's results equal those of the code before the speed-up (issue 17).

``data/suite_reference.json`` was produced by ``data/make_reference.py`` from commit
a93a7fa (the pre-change code, not the code under test) on fixed synthetic samples:
default, weighted and clustered, degenerate (failing fits, dropped regressors),
multi-start, order 0, the census (collapsed) fit and ``fit_models``. Tolerances: the
same optimum, i.e. estimates and SEs to 1e-6, log-likelihoods to 1e-8, the same status
and valid N; the descriptive tables and tests to 1e-10.

The synthetic samples have no column of the variables added later (issue 11,
``world/extras.py``): their scalars and test rows are compared on the reference's names
and rows, and every later scalar and test must be NaN on them (optional items).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from sim_refugee.world.extras import EXTRA_COLUMNS
from tests.suite.data.make_reference import CASES, sample_hash

REF = json.loads((Path(__file__).parent / "data" / "suite_reference.json").read_text())
#: the descriptive items added after the reference (issue 11), absent from its samples
LATER_ITEMS = {*EXTRA_COLUMNS}
EST_TOL = 1e-6
LLF_TOL = 1e-8


def _arr(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _run(name: str):
    from sim_refugee.suite import census_fit, fit_models, run_suite

    make, kw = CASES[name]
    sample = make()
    assert sample_hash(sample) == REF["cases"][name]["sample_sha256"], (
        "the synthetic sample generator changed: regenerate the reference from the "
        "pre-change commit (see data/make_reference.py)")
    kw = dict(kw)
    if "fit_models" in kw:
        return fit_models(sample, kw.pop("fit_models")), None
    if kw.pop("census", False):
        res = census_fit(sample)
    else:
        res = run_suite(sample, **kw)
    return res.estimates, res


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    est, res = _run(request.param)
    return request.param, est, res


def test_estimates_equal_the_pre_speedup_code(case):
    name, est, _ = case
    ref = REF["cases"][name]["estimates"]
    rows = "\n".join(f"{m}|{t}" for m, t in zip(est["model"], est["term"], strict=True))
    assert hashlib.sha256(rows.encode()).hexdigest() == ref["rows_sha256"]
    assert est["status"].astype(str).tolist() == ref["status"]
    np.testing.assert_array_equal(est["nobs"].to_numpy(float), _arr(ref["nobs"]))
    for col in ("estimate", "se", "pvalue"):
        np.testing.assert_allclose(est[col].to_numpy(float), _arr(ref[col]), rtol=EST_TOL,
                                   atol=EST_TOL, err_msg=f"{name}: {col}")


def test_log_likelihoods_equal_the_pre_speedup_code(case):
    name, _, res = case
    if res is None:
        pytest.skip("fit_models returns no scalars")
    ref = REF["cases"][name]["scalars"]
    known = set(ref["name"])
    assert [n for n in res.scalars.index if n in known] == ref["name"]
    # scalars added since are new outputs, not changed ones: each model's regressor-free
    # log-likelihood (fit.*.llnull), and items the reference sample has no column for
    later = [n for n in res.scalars.index if n not in known]
    llnull = [n for n in later if n.startswith("fit.") and n.endswith(".llnull")]
    items = [n for n in later if n not in set(llnull)]
    assert all(n.split(".")[1] in LATER_ITEMS for n in items), items
    assert res.scalars[items].isna().all()
    got, want = res.scalars[ref["name"]].to_numpy(float), _arr(ref["value"])
    llf = np.array([n.startswith("fit.") for n in ref["name"]])
    np.testing.assert_allclose(got[llf], want[llf], rtol=0, atol=LLF_TOL)
    np.testing.assert_allclose(got[~llf], want[~llf], rtol=1e-10, atol=1e-12)


def test_tables_and_tests_equal_the_pre_speedup_code(case):
    name, _, res = case
    if res is None:
        pytest.skip("fit_models returns no tables")
    ref = REF["cases"][name]
    t = res.tables
    keys = "\n".join("|".join(map(str, r)) for r in
                     t[["table", "item", "level", "group"]].itertuples(index=False))
    assert hashlib.sha256(keys.encode()).hexdigest() == ref["tables"]["keys_sha256"]
    for col in ("count", "pct", "valid_n", "value"):
        np.testing.assert_allclose(t[col].to_numpy(float), _arr(ref["tables"][col]),
                                   rtol=1e-10, atol=1e-12, err_msg=col)
    n_ref = len(ref["tests"]["item"])
    tests, later = res.tests.iloc[:n_ref], res.tests.iloc[n_ref:]
    for col in ("table", "item"):
        assert tests[col].astype(str).tolist() == ref["tests"][col]
    for col in ("statistic", "df", "pvalue", "nobs"):
        np.testing.assert_allclose(tests[col].to_numpy(float), _arr(ref["tests"][col]),
                                   rtol=1e-10, atol=1e-12, err_msg=col)
    assert all(i.split(".")[0] in LATER_ITEMS for i in later["item"])
    assert later["statistic"].isna().all()
