"""The inquiry: what each estimate estimates.

1. The census fit: the suite on the whole population (``census_fit``), the estimand of
   every (model, term) on the estimate's own scale, and the claims evaluated on it.
2. The generator's structural Table 7 coefficients where they are on a comparable scale:
   the world draws item j as y*_j = lambda (factor + d_fm family_missing) + e_j
   + sum_r beta_rj x_r with var(factor) = 1 and var(e_j) = 1 - lambda^2, so the error of
   the Table 7 model (which omits family_missing) has sd
   s = sqrt(1 + lambda^2 d_fm^2 p (1 - p)), p the population share with family_missing.
   beta_rj / s is then on the scale of the standardized SNP coefficients ``t7std_<item>``
   (b / sd of the error). The raw SNP scale (``t7_``) has no structural counterpart.
   This holds when the distress channels outside Table 7 (``distress.urban_china``,
   ``distress.korean_chinese_host``, ``distress.church_tie``, ...) are zero; otherwise
   the census estimates also carry their omitted-variable bias, by design.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim_refugee.claims import evaluate_claims
from sim_refugee.suite.layout import SuiteResult
from sim_refugee.suite.run import census_fit
from sim_refugee.suite.specs import AGE_UNIT_YEARS, T7_ITEMS, T7_REGRESSORS


def structural_values(cfg, pop: pd.DataFrame | None = None) -> pd.DataFrame:
    """Structural Table 7 coefficients of world ``cfg`` on the ``t7std_`` scale.

    Columns: model ('t7std_<item>'), term, structural (beta, the latent-scale value),
    value (beta / s, comparable to the standardized estimate), error_sd (s).
    ``pop`` gives the family_missing share for s (else s uses p = 0.23, Table 5).
    """
    from sim_refugee.world.model import t7_coefficients

    a = cfg.resolved_assumptions()
    beta = t7_coefficients(a, cfg.effects)
    # the world's age unit is age.scale years, the suite's AGE_UNIT_YEARS
    beta["age"] = beta["age"] * AGE_UNIT_YEARS / float(a["age.scale"])
    lam = float(a["distress.loading"])
    d_fm = float(a["distress.family_missing"])
    p = float(pop["family_missing"].mean()) if pop is not None else 0.23
    s = float(np.sqrt(1.0 + lam**2 * d_fm**2 * p * (1.0 - p)))
    rows = []
    for j, item in enumerate(T7_ITEMS):
        for term in T7_REGRESSORS:
            b = float(beta[term][j])
            rows.append({"model": f"t7std_{item}", "term": term, "structural": b,
                         "value": b / s, "error_sd": s})
    return pd.DataFrame(rows)


@dataclass
class Inquiry:
    """The census fit, its claims, and the structural values (when a config is given)."""

    census: SuiteResult
    claims: pd.Series
    structural: pd.DataFrame | None


def inquiry(pop: pd.DataFrame, cfg=None, include_variants: bool = True) -> Inquiry:
    """Run the inquiry on a population (``cfg``: its WorldConfig, for structural values)."""
    census = census_fit(pop, include_variants=include_variants)
    structural = structural_values(cfg, pop) if cfg is not None else None
    return Inquiry(census, evaluate_claims(census), structural)
