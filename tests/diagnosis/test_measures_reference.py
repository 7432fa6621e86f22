"""The Monte Carlo measures and their MCSEs (diagnosis/measures.py) against published output.

Reference: the R package rsimsum (A. Gasparini, "rsimsum: Summarise results from Monte
Carlo simulation studies", JOSS 3(26):739, 2018), which implements the formulas of
Morris, White & Crowther (2019, Stat Med 38:2074, Table 6) after Ian White's Stata
``simsum``. Its README prints ``summary(simsum(data = MIsim, estvarname = "b", true =
0.5, se = "se", methodvar = "method"))`` for the package's example data ``MIsim`` (1,000
simulated data sets from White & Royston 2009, Stat Med 28:1982, each analysed by
complete cases, CC, and two multiple-imputation methods, MI_LOGT and MI_T). The data
(``data/MIsim.rda`` of github.com/ellessenne/rsimsum, commit 6041ba7) are in
``data/misim.csv``; the expected numbers below are the README's, printed to 4
decimals, so the tolerance is half a unit in the 4th decimal.

rsimsum reports the relative error in the model SE, 100 (modSE / empSE - 1), where
measures.py reports the ratio modSE / empSE: the ratio is 1 + relerr / 100 and its MCSE
is the relerr's MCSE / 100. rsimsum has no RMSE; its MCSE is checked against a
jackknife over replications instead (an independent computation, stated as such).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from sim_refugee.diagnosis.measures import TERM_MEASURES, term_measures

DATA = Path(__file__).parent / "data" / "misim.csv"
TRUE = 0.5
HALF_UNIT = 0.5e-4 + 1e-9

#: (value, MCSE) per method, from rsimsum's README (4 decimals)
PUBLISHED = {
    "CC": {"bias": (0.0168, 0.0048), "rel_bias": (0.0335, 0.0096),
           "emp_se": (0.1511, 0.0034), "mse": (0.0231, 0.0011), "mod_se": (0.1471, 0.0005),
           "relerr": (-2.6594, 2.2055), "coverage": (0.9430, 0.0073),
           "power": (0.9460, 0.0071), "mean_estimate": (0.5168, None)},
    "MI_LOGT": {"bias": (0.0009, 0.0042), "rel_bias": (0.0018, 0.0083),
                "emp_se": (0.1320, 0.0030), "mse": (0.0174, 0.0009),
                "mod_se": (0.1349, 0.0006), "relerr": (2.2233, 2.3323),
                "coverage": (0.9490, 0.0070), "power": (0.9690, 0.0055),
                "mean_estimate": (0.5009, None)},
    "MI_T": {"bias": (-0.0012, 0.0043), "rel_bias": (-0.0024, 0.0085),
             "emp_se": (0.1344, 0.0030), "mse": (0.0181, 0.0009), "mod_se": (0.1338, 0.0006),
             "relerr": (-0.4412, 2.2695), "coverage": (0.9430, 0.0073),
             "power": (0.9630, 0.0060), "mean_estimate": (0.4988, None)},
}


@pytest.fixture(scope="module")
def misim() -> pd.DataFrame:
    return pd.read_csv(DATA)


def _measures(df: pd.DataFrame, method: str) -> tuple[dict, dict]:
    s = df[df["method"] == method].sort_values("dataset")
    est, se = s["b"].to_numpy(), s["se"].to_numpy()
    pval = 2 * norm.sf(np.abs(est / se))  # Wald test of 0, as simsum's power
    ones = np.ones(len(est), bool)
    v, m = term_measures(est, se, pval, np.full(len(est), TRUE), ones, ones, "successes")
    return dict(zip(TERM_MEASURES, v, strict=True)), dict(zip(TERM_MEASURES, m, strict=True))


def test_fixture_is_rsimsums_misim(misim):
    assert len(misim) == 3000 and misim["dataset"].nunique() == 1000
    assert sorted(misim["method"].unique()) == ["CC", "MI_LOGT", "MI_T"]


@pytest.mark.parametrize("method", list(PUBLISHED))
def test_measures_and_mcse_equal_rsimsums_published_output(misim, method):
    val, mc = _measures(misim, method)
    assert val["n_sim"] == 1000
    for name, (v, m) in PUBLISHED[method].items():
        if name == "relerr":
            got_v, got_m = 100 * (val["se_ratio"] - 1), 100 * mc["se_ratio"]
        else:
            got_v, got_m = val[name], mc[name]
        # relerr is printed in percent: half a unit of its 4th decimal
        assert got_v == pytest.approx(v, abs=HALF_UNIT), (name, got_v, v)
        if m is not None:
            assert got_m == pytest.approx(m, abs=HALF_UNIT), (name, got_m, m)


@pytest.mark.parametrize("method", list(PUBLISHED))
def test_rmse_mcse_against_a_jackknife(misim, method):
    """Independent check (not published): the jackknife SE of RMSE over the 1,000
    replications. Delta method and jackknife agree to O(1/n): 5% here, and a factor-2
    error in the formula is far outside it."""
    val, mc = _measures(misim, method)
    e2 = (misim.loc[misim["method"] == method, "b"].to_numpy() - TRUE) ** 2
    n = e2.size
    loo = np.sqrt((e2.sum() - e2) / (n - 1))
    jack = np.sqrt((n - 1) / n * np.sum((loo - loo.mean()) ** 2))
    assert val["rmse"] == pytest.approx(np.sqrt(e2.mean()), rel=1e-12)
    assert mc["rmse"] == pytest.approx(jack, rel=0.05)
    assert mc["rmse"] == pytest.approx(mc["mse"] / (2 * val["rmse"]), rel=1e-12)
