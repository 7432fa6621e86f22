"""The paper's conclusions as named predicates on a SuiteResult (Contract 5)."""

from sim_refugee.claims.registry import (
    ALPHA,
    CLAIM_IDS,
    CLAIMS,
    CLAIMS_BY_ID,
    Claim,
    Evidence,
    NotEvaluable,
    claims_frame,
    evaluate_claim,
    evaluate_claims,
)

__all__ = [
    "ALPHA",
    "CLAIMS",
    "CLAIMS_BY_ID",
    "CLAIM_IDS",
    "Claim",
    "Evidence",
    "NotEvaluable",
    "claims_frame",
    "evaluate_claim",
    "evaluate_claims",
]
