"""Covariance helpers (estimators/covariance.py) on small matrices with known answers:
the inverse of diagonal and 2 x 2 matrices by hand, numpy's inverse, and the sandwich
assembled by hand from its definition (Stata's G/(G-1) factor)."""

from __future__ import annotations

import numpy as np
import pytest

from sim_refugee.estimators.covariance import check_psd, cluster_meat, invert_neg_hessian, sandwich


def test_inverse_of_empty_and_one_by_one_hessians():
    inv, status, msg = invert_neg_hessian(np.zeros((0, 0)))
    assert inv.shape == (0, 0) and (status, msg) == ("ok", "")
    inv, status, msg = invert_neg_hessian(np.array([[-4.0]]))
    np.testing.assert_allclose(inv, [[0.25]], rtol=1e-14)
    assert (status, msg) == ("ok", "")


def test_inverse_symmetrises_and_equals_numpy():
    h = np.array([[-2.0, -1.0], [0.0, -2.0]])  # -H symmetrised: [[2, .5], [.5, 2]]
    inv, status, msg = invert_neg_hessian(h)
    np.testing.assert_allclose(inv, np.array([[2.0, -0.5], [-0.5, 2.0]]) / 3.75, rtol=1e-13)
    assert (status, msg) == ("ok", "")
    rng = np.random.Generator(np.random.PCG64(15))
    m = rng.normal(size=(9, 4))
    a = m.T @ m
    np.testing.assert_allclose(invert_neg_hessian(-a)[0], np.linalg.inv(a), rtol=1e-10)


def test_singular_and_non_finite_hessians_give_nan_and_a_status():
    inv, status, msg = invert_neg_hessian(np.array([[1.0, np.nan], [np.nan, 1.0]]))
    assert inv.shape == (2, 2) and np.isnan(inv).all()
    assert (status, msg) == ("singular_hessian", "Hessian has non-finite entries")
    inv, status, msg = invert_neg_hessian(-np.diag([1.0, 1e-13]))  # below 1e-12 x largest
    assert inv.shape == (2, 2) and np.isnan(inv).all() and status == "singular_hessian"
    assert msg == "negative Hessian not positive definite (eigenvalues 1e-13 .. 1)"
    _, _, msg = invert_neg_hessian(-np.diag([3.0, 1e-13, 1.0]))  # smallest .. largest
    assert msg == "negative Hessian not positive definite (eigenvalues 1e-13 .. 3)"
    inv, status, _ = invert_neg_hessian(np.zeros((3, 3)))
    assert inv.shape == (3, 3) and np.isnan(inv).all() and status == "singular_hessian"
    inv, status, _ = invert_neg_hessian(-np.diag([1.0, 1e-11]))  # small but above the ratio
    np.testing.assert_allclose(np.diag(inv), [1.0, 1e11], rtol=1e-8)
    assert status == "ok"
    assert invert_neg_hessian(np.diag([1.0, 2.0]))[1] == "singular_hessian"  # a minimum


def test_sandwich_with_two_clusters_and_with_one():
    h = -np.diag([2.0, 4.0])
    scores = np.array([[1.0, 0.0], [1.0, 2.0], [-1.0, 1.0]])
    groups = np.array([7, 7, 3])
    # cluster sums: (2, 2) and (-1, 1); meat = [[5, 3], [3, 5]]; bread = diag(1/2, 1/4)
    cov, status, msg = sandwich(h, scores, groups)
    bread = np.diag([0.5, 0.25])
    np.testing.assert_allclose(cov, 2.0 * bread @ np.array([[5.0, 3.0], [3.0, 5.0]]) @ bread, rtol=1e-14)
    assert (status, msg) == ("ok", "")
    meat, n_groups = cluster_meat(scores, groups)
    assert n_groups == 2
    cov, status, msg = sandwich(h, scores, np.array([1, 1, 1]))
    assert np.isnan(cov).all() and cov.shape == (2, 2)
    assert (status, msg) == ("singular_hessian", "fewer than two clusters: sandwich undefined")
    # each row its own cluster: factor N/(N-1) = 3/2
    cov, status, _ = sandwich(h, scores)
    np.testing.assert_allclose(cov, 1.5 * bread @ scores.T @ scores @ bread, rtol=1e-14)
    assert status == "ok"
    # a singular Hessian is passed through with its status
    cov, status, msg = sandwich(np.zeros((2, 2)), scores, groups)
    assert np.isnan(cov).all() and status == "singular_hessian" and "positive definite" in msg


def test_check_psd_tolerance_and_symmetrisation():
    assert check_psd(np.zeros((0, 0))) == (True, 0.0)
    psd, ev = check_psd(np.array([[1.0, np.nan], [np.nan, 1.0]]))
    assert psd is False and np.isnan(ev)
    assert check_psd(np.zeros((2, 2))) == (True, 0.0)
    assert check_psd(np.diag([2.0, 0.0])) == (True, 0.0)
    psd, ev = check_psd(np.diag([1.0, -1e-11]))  # within 1e-10 of the largest eigenvalue
    assert psd is True and ev == pytest.approx(-1e-11, rel=1e-9)
    psd, ev = check_psd(np.diag([1.0, -1e-9]))
    assert psd is False and ev == pytest.approx(-1e-9, rel=1e-9)
    # the tolerance is relative to the largest eigenvalue, whatever the scale (SEs are
    # often small: variances of 1e-4)
    assert check_psd(np.diag([1e-4, -1e-13]))[0] is False
    assert check_psd(np.diag([1e-4, -1e-15]))[0] is True
    assert check_psd(np.diag([100.0, -1e-9]))[0] is True
    assert check_psd(np.diag([100.0, -1e-7]))[0] is False
    psd, ev = check_psd(np.diag([-2.0, -1.0]))
    assert psd is False and ev == -2.0
    # an asymmetric input is judged by its symmetric part [[1, 1], [1, 1]]: eigenvalues 0, 2
    psd, ev = check_psd(np.array([[1.0, 2.0], [0.0, 1.0]]))
    assert psd is True and ev == pytest.approx(0.0, abs=1e-15)
    psd, ev = check_psd(np.array([[1.0, 0.0], [4.0, 1.0]]))  # symmetric part: -1 and 3
    assert psd is False and ev == pytest.approx(-1.0, rel=1e-12)
