"""The paper's estimators: SNP ordered probit, 2SPLS, (weighted) probit, descriptive tables.

statsmodels-style model and results objects (Contract 4 of docs/ARCHITECTURE.md):
``Model(...).fit()`` returns results with ``params``, ``bse``, ``pvalues``,
``conf_int()``, ``nobs``, ``llf``, ``converged``, ``status``, ``status_message``,
``summary()``. Numerical failure is reported in ``status``; bad input raises
:class:`~sim_refugee.errors.UserInputError`.
"""

from sim_refugee.estimators.descriptive import crosstab_by_gender, gender_chi2
from sim_refugee.estimators.probit import Probit, ProbitResults
from sim_refugee.estimators.results import STATUSES, EstimationResults
from sim_refugee.estimators.snp import (
    SNPOrderedProbit,
    SNPOrderedProbitResults,
    select_snp_order,
    snp_cdf,
    snp_dcdf_dg,
    snp_moments,
    snp_pdf,
)
from sim_refugee.estimators.twostage import (
    TwoStageEquationResults,
    TwoStageProbitLS,
    TwoStageProbitLSResults,
)

__all__ = [
    "STATUSES",
    "EstimationResults",
    "Probit",
    "ProbitResults",
    "SNPOrderedProbit",
    "SNPOrderedProbitResults",
    "TwoStageEquationResults",
    "TwoStageProbitLS",
    "TwoStageProbitLSResults",
    "crosstab_by_gender",
    "gender_chi2",
    "select_snp_order",
    "snp_cdf",
    "snp_dcdf_dg",
    "snp_moments",
    "snp_pdf",
]
