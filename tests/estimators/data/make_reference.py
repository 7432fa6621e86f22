"""Make the ordered-probit reference outputs of another implementation (statsmodels).

Run once: ``python3 tests/estimators/data/make_reference.py``. It simulates a data set
with a fixed seed, fits statsmodels ``OrderedModel(distr="probit")`` and stores the data
(``oprobit_data.csv``) and the fit (``oprobit_statsmodels.json``). The tests compare our
order-0 SNP fit against these stored numbers, so they do not depend on our own code.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels
from statsmodels.miscmodels.ordinal_model import OrderedModel

HERE = Path(__file__).resolve().parent
SEED = 20260401


def make_data() -> pd.DataFrame:
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(SEED)))
    n = 800
    x = pd.DataFrame(
        {
            "female": (rng.random(n) < 0.7).astype(int),
            "age_decades": rng.normal(3.5, 1.0, n),
            "camp": (rng.random(n) < 0.1).astype(int),
            "years_in_china": rng.gamma(2.0, 1.2, n),
        }
    )
    beta = np.array([0.3, -0.15, 0.6, 0.1])
    ystar = x.to_numpy() @ beta + rng.normal(size=n)
    y = np.digitize(ystar, [-0.4, 0.3, 1.1]) + 1
    return x.assign(y=y)


def main() -> None:
    data = make_data()
    exog = data.drop(columns="y")
    res = OrderedModel(data["y"], exog, distr="probit").fit(
        method="bfgs", disp=False, maxiter=5000, gtol=1e-7
    )
    k = exog.shape[1]
    cuts = res.model.transform_threshold_params(res.params.to_numpy())[1:-1]
    out = {
        "statsmodels_version": statsmodels.__version__,
        "seed": SEED,
        "converged": bool(res.mle_retvals["converged"]),
        "llf": float(res.llf),
        "slopes": dict(zip(exog.columns, map(float, res.params.iloc[:k]), strict=True)),
        "slopes_bse": dict(zip(exog.columns, map(float, res.bse.iloc[:k]), strict=True)),
        "cuts": [float(c) for c in cuts],
        "cut1_bse": float(res.bse.iloc[k]),
    }
    data.to_csv(HERE / "oprobit_data.csv", index=False)
    (HERE / "oprobit_statsmodels.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
