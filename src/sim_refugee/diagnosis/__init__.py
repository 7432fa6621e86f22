"""Diagnosis of a Monte Carlo run: bias, SEs, RMSE, coverage, power, type-S, claim
reproduction, paired design differences, failure rates, each with its MC standard error
(Morris, White & Crowther 2019)."""

from sim_refugee.diagnosis.measures import (
    BASES,
    CLAIM_MEASURES,
    PAIRED_MEASURES,
    TERM_MEASURES,
    condition_max_mcse,
    diagnose,
)
from sim_refugee.diagnosis.output import markdown, tidy, write_diagnosis

__all__ = [
    "BASES",
    "CLAIM_MEASURES",
    "PAIRED_MEASURES",
    "TERM_MEASURES",
    "condition_max_mcse",
    "diagnose",
    "markdown",
    "tidy",
    "write_diagnosis",
]
