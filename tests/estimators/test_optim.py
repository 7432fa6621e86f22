"""The damped Newton maximiser (estimators/_optim.py) on functions with known maxima and
known failure modes: a concave quadratic (one step), a ridge, a minimum, a function that
is only finite at the start, a NaN Hessian, a non-concave start, the iteration limit."""

from __future__ import annotations

import numpy as np
import pytest

from sim_refugee.estimators._optim import newton_maximize

A = np.array([[2.0, 0.5], [0.5, 1.0]])
C = np.array([1.0, -2.0])


def _quadratic(x):
    d = x - C
    return -0.5 * float(d @ A @ d) + 3.0, -A @ d, -A


def test_concave_quadratic_in_one_step():
    res = newton_maximize(_quadratic, np.zeros(2))
    np.testing.assert_allclose(res.x, C, rtol=1e-12)
    assert res.llf == pytest.approx(3.0, rel=1e-14)
    assert (res.converged, res.n_iter, res.message) == (True, 1, "converged")
    np.testing.assert_allclose(res.grad, 0.0, atol=1e-12)
    np.testing.assert_array_equal(res.hess, -A)
    start = np.zeros(2)
    newton_maximize(_quadratic, start)
    assert (start == 0).all()  # the start is not modified
    at = newton_maximize(_quadratic, C.copy())
    assert (at.converged, at.n_iter) == (True, 0)


def test_ridge_converges_with_a_singular_hessian():
    def ridge(x):  # x[1] does not enter
        return -(x[0] - 1.0) ** 2, np.array([-2 * (x[0] - 1.0), 0.0]), np.array([[-2.0, 0.0], [0.0, 0.0]])

    res = newton_maximize(ridge, np.array([3.0, 5.0]))
    assert (res.converged, res.message) == (True, "converged (singular Hessian)")
    assert res.x[0] == pytest.approx(1.0, abs=1e-6) and res.x[1] == pytest.approx(5.0, abs=1e-6)
    # one (shifted) step reaches the ridge to about 1e-8; the second iteration stops there
    assert res.n_iter == 1
    np.testing.assert_allclose(res.grad, ridge(res.x)[1], rtol=1e-12)
    assert abs(res.grad[0]) < 1e-7
    np.testing.assert_array_equal(res.hess, [[-2.0, 0.0], [0.0, 0.0]])


def test_a_minimum_is_not_a_maximum():
    def bowl(x):
        return float(x @ x), 2 * x, 2 * np.eye(2)

    res = newton_maximize(bowl, np.zeros(2))
    assert (res.converged, res.message, res.n_iter) == (False, "stationary point is not a maximum", 0)
    assert res.x.tolist() == [0.0, 0.0] and res.llf == 0.0
    np.testing.assert_array_equal(res.grad, [0.0, 0.0])
    np.testing.assert_array_equal(res.hess, 2 * np.eye(2))


def test_failures_are_named():
    def nowhere(x):
        return np.nan, np.zeros(1), -np.eye(1)

    res = newton_maximize(nowhere, np.ones(1))
    assert (res.converged, res.n_iter, res.message) == (False, 0, "log-likelihood not finite at start")
    np.testing.assert_array_equal(res.hess, -np.eye(1))
    np.testing.assert_array_equal(res.grad, np.zeros(1))
    assert np.isnan(res.llf) and res.x.tolist() == [1.0]

    def only_at_start(x):
        llf = -1.0 if x[0] == 0.0 else np.nan
        return llf, np.ones(1), -np.eye(1)

    res = newton_maximize(only_at_start, np.zeros(1))
    assert (res.converged, res.n_iter, res.message) == (False, 1, "line search failed")
    assert res.x[0] == 0.0 and res.llf == -1.0
    np.testing.assert_array_equal(res.grad, np.ones(1))  # where the search started
    np.testing.assert_array_equal(res.hess, -np.eye(1))

    def nan_hessian(x):
        return -1.0, np.ones(2), np.full((2, 2), np.nan)

    res = newton_maximize(nan_hessian, np.zeros(2))
    assert (res.converged, res.n_iter, res.message) == (False, 1, "could not regularise the Hessian")
    assert res.llf == -1.0 and res.x.tolist() == [0.0, 0.0]
    np.testing.assert_array_equal(res.grad, np.ones(2))
    assert np.isnan(res.hess).all()


def test_non_concave_start_and_iteration_limit():
    def bump(x):  # -log(1 + x^2): maximum at 0, convex for |x| > 1
        t = x[0]
        return -np.log1p(t * t), np.array([-2 * t / (1 + t * t)]), np.array([[(2 * t * t - 2) / (1 + t * t) ** 2]])

    res = newton_maximize(bump, np.array([3.0]))
    assert res.converged and res.message == "converged"
    assert abs(res.x[0]) < 1e-6 and res.llf == pytest.approx(0.0, abs=1e-12)

    def smooth(x):  # -cosh(x - 1): Newton needs several steps from 4
        t = x[0] - 1.0
        return -np.cosh(t), np.array([-np.sinh(t)]), np.array([[-np.cosh(t)]])

    full = newton_maximize(smooth, np.array([4.0]))
    assert full.converged and full.x[0] == pytest.approx(1.0, abs=1e-6) and full.n_iter > 2
    short = newton_maximize(smooth, np.array([4.0]), maxiter=2)
    assert (short.converged, short.n_iter, short.message) == (False, 2, "iteration limit reached")
    # exactly two full Newton steps t <- t - tanh(t) from t = 3 (each improves lnL), and the
    # gradient and Hessian of the point reached
    t = 3.0
    for _ in range(2):
        t -= np.tanh(t)
    assert short.x[0] == pytest.approx(1.0 + t, rel=1e-12)
    np.testing.assert_allclose(short.grad, [-np.sinh(t)], rtol=1e-10)
    np.testing.assert_allclose(short.hess, [[-np.cosh(t)]], rtol=1e-10)
    loose = newton_maximize(smooth, np.array([4.0]), tol=1e-2)
    assert loose.converged and loose.n_iter < full.n_iter


def _flat_saddle(h0: float, h1: float):
    """A stationary point at 0 with Hessian diag(h0, h1) (h0 < 0, h1 a tiny positive)."""
    def f(x):
        return 0.5 * (h0 * x[0] ** 2 + h1 * x[1] ** 2), np.array([h0 * x[0], h1 * x[1]]), np.diag([h0, h1])
    return f


def test_ridge_tolerance_is_relative_to_the_largest_curvature():
    # -H has eigenvalues (-1.5e-9, 0.5): beyond 1e-9 x max(1, 0.5): not a maximum
    res = newton_maximize(_flat_saddle(-0.5, 1.5e-9), np.zeros(2))
    assert (res.converged, res.message) == (False, "stationary point is not a maximum")
    # (-3e-9, 4): within 1e-9 x 4: a flat ridge, converged
    res = newton_maximize(_flat_saddle(-4.0, 3e-9), np.zeros(2))
    assert (res.converged, res.message) == (True, "converged (singular Hessian)")


def test_ridge_tolerance_uses_the_largest_curvature_of_three():
    """With three parameters the scale is the largest eigenvalue of -H (4 here), not the
    middle one (0.5): an eigenvalue of -3e-9 is within 1e-9 x 4, a flat ridge."""
    def f(x):
        h = np.array([3e-9, -0.5, -4.0])
        return 0.5 * float(h @ (x * x)), h * x, np.diag(h)

    res = newton_maximize(f, np.zeros(3))
    assert (res.converged, res.message) == (True, "converged (singular Hessian)")
