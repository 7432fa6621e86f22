"""Covariance matrices for M-estimators: inverse negative Hessian and cluster sandwich.

All functions are pure and never raise for numerical trouble; they return the matrix
together with a status string (``"ok"``, ``"singular_hessian"``, ``"non_psd_cov"``) so
that results objects can report failure instead of hiding it.
"""

from __future__ import annotations

import numpy as np

#: Relative eigenvalue threshold below which a Hessian is treated as singular.
SINGULAR_RCOND = 1e-12
#: Relative tolerance for negative eigenvalues of a covariance matrix.
PSD_TOL = 1e-10


def invert_neg_hessian(hessian: np.ndarray) -> tuple[np.ndarray, str, str]:
    """Return ``(inv(-H), status, message)``; NaN matrix and a status when singular.

    Uses an eigen-decomposition of the symmetrised ``-H`` so near-singularity is
    detected from the eigenvalue ratio, not from a failed solve.
    """
    a = -0.5 * (hessian + hessian.T)
    p = a.shape[0]
    if p == 0:
        return np.zeros((0, 0)), "ok", ""
    if not np.all(np.isfinite(a)):
        return np.full((p, p), np.nan), "singular_hessian", "Hessian has non-finite entries"
    evals, evecs = np.linalg.eigh(a)
    top = np.max(np.abs(evals))
    if top == 0 or evals[0] <= SINGULAR_RCOND * top:
        msg = (
            f"negative Hessian not positive definite (eigenvalues {evals[0]:.3g} .. {evals[-1]:.3g})"
        )
        return np.full((p, p), np.nan), "singular_hessian", msg
    inv = (evecs / evals) @ evecs.T
    return inv, "ok", ""


def cluster_meat(scores: np.ndarray, groups: np.ndarray | None) -> tuple[np.ndarray, int]:
    """Sum over clusters of outer products of the within-cluster summed scores.

    ``scores`` are per-observation (already weighted) score rows; ``groups=None`` makes
    every observation its own cluster. Returns ``(B, G)`` with ``G`` the cluster count.
    """
    if groups is None:
        summed = scores
    else:
        _, inverse = np.unique(groups, return_inverse=True)
        summed = np.zeros((inverse.max() + 1, scores.shape[1]))
        np.add.at(summed, inverse, scores)
    return summed.T @ summed, summed.shape[0]


def sandwich(
    hessian: np.ndarray, scores: np.ndarray, groups: np.ndarray | None = None
) -> tuple[np.ndarray, str, str]:
    """Cluster-robust sandwich ``A^-1 B A^-1 * G/(G-1)`` with ``A = -H``.

    The small-sample factor is G/(G-1) (Stata's factor for clustered ML estimators;
    with ``groups=None`` each observation is a cluster, so it is N/(N-1)).
    """
    bread, status, msg = invert_neg_hessian(hessian)
    if status != "ok":
        return bread, status, msg
    meat, n_groups = cluster_meat(scores, groups)
    factor = n_groups / (n_groups - 1) if n_groups > 1 else np.nan
    cov = factor * bread @ meat @ bread
    cov = 0.5 * (cov + cov.T)
    if n_groups < 2:
        return cov, "singular_hessian", "fewer than two clusters: sandwich undefined"
    return cov, "ok", ""


def check_psd(cov: np.ndarray) -> tuple[bool, float]:
    """Whether ``cov`` is positive semi-definite (up to PSD_TOL); also its smallest eigenvalue."""
    if cov.size == 0:
        return True, 0.0
    if not np.all(np.isfinite(cov)):
        return False, float("nan")
    evals = np.linalg.eigvalsh(0.5 * (cov + cov.T))
    top = max(float(np.max(np.abs(evals))), 1e-300)
    return bool(evals[0] >= -PSD_TOL * top), float(evals[0])
