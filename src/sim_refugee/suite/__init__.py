"""The answer strategy and the inquiry: the paper's whole analysis on one sample
(``run_suite``) and on the whole population (``census_fit``), with a fixed layout
(``suite_layout``) so a Monte Carlo engine can stack results. Contract 5."""

from sim_refugee.suite.run import (
    SuiteLayout,
    SuiteResult,
    census_fit,
    fit_models,
    regressor_frame,
    required_columns,
    run_suite,
    suite_layout,
)
from sim_refugee.suite.specs import MODEL_SPECS, MODELS, T7_ITEMS, T7_REGRESSORS, ModelSpec

__all__ = [
    "MODELS",
    "MODEL_SPECS",
    "ModelSpec",
    "SuiteLayout",
    "SuiteResult",
    "T7_ITEMS",
    "T7_REGRESSORS",
    "census_fit",
    "fit_models",
    "regressor_frame",
    "required_columns",
    "run_suite",
    "suite_layout",
]
