"""The coefficient table users read (``summary_frame``): column labels and the interval
bounds, computed here from params and bse with the normal quantile."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from sim_refugee.estimators import Probit


@pytest.mark.parametrize("alpha", [0.05, 0.1])
def test_summary_frame_labels_and_bounds(alpha):
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([15, 1])))
    x = pd.DataFrame({"const": 1.0, "a": rng.normal(size=400)})
    y = pd.Series((0.3 + 0.8 * x["a"] + rng.normal(size=400) > 0).astype(int), name="y")
    res = Probit(y, x).fit()
    frame = res.summary_frame(alpha)
    lo, hi = f"[{alpha / 2:g}", f"{1 - alpha / 2:g}]"
    assert list(frame.columns) == ["coef", "std err", "z", "P>|z|", lo, hi]
    assert (lo, hi) == (("[0.025", "0.975]") if alpha == 0.05 else ("[0.05", "0.95]"))
    z = norm.isf(alpha / 2)
    np.testing.assert_allclose(frame[lo], res.params - z * res.bse, rtol=1e-10)
    np.testing.assert_allclose(frame[hi], res.params + z * res.bse, rtol=1e-10)
    np.testing.assert_allclose(frame["P>|z|"], 2 * norm.sf(np.abs(res.params / res.bse)),
                               rtol=1e-8)
    assert res.converged is True and res.status == "ok"
