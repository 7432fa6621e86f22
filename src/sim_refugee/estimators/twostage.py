"""Two-stage probit least squares (2SPLS; Amemiya 1978, Maddala 1983; Stata ``cdsimeq``).

System (ESTIMATORS.md section 2): a continuous equation ``y1 = g1 y2* + X1 b1 + u1``
(estimated by OLS) and a binary equation ``y2* = g2 y1 + X2 b2 + u2``, ``y2 = 1{y2* > 0}``
(estimated by probit). Stage 1 regresses y1 (OLS) and y2 (probit) on all exogenous
columns X; stage 2 replaces the endogenous regressor by its stage-1 linear prediction.
Standard errors use Amemiya's corrected covariance; a corrected covariance that is not
positive semi-definite is flagged (status ``'non_psd_cov'``), never silently reported.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim_refugee.errors import UserInputError
from sim_refugee.estimators import _data
from sim_refugee.estimators._threads import single_blas_thread
from sim_refugee.estimators.covariance import invert_neg_hessian
from sim_refugee.estimators.probit import fit_probit_arrays, probit_verdict
from sim_refugee.estimators.results import EstimationResults, failed_results, worst_status

_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)


class TwoStageEquationResults(EstimationResults):
    """One structural equation of a 2SPLS fit (``naive_bse``: uncorrected second-stage SEs)."""

    model_name = "2SPLS equation"


class TwoStageProbitLSResults:
    """Results of :class:`TwoStageProbitLS`: ``.continuous`` (OLS eq.) and ``.binary`` (probit eq.)."""

    def __init__(self, continuous: TwoStageEquationResults, binary: TwoStageEquationResults, stage1: dict):
        self.continuous = continuous
        self.binary = binary
        self.stage1 = stage1
        self.nobs = continuous.nobs
        self.status = worst_status(continuous.status, binary.status)
        msgs = [f"{k}: {r.status_message}" for k, r in (("continuous", continuous), ("binary", binary)) if r.status_message]
        self.status_message = "; ".join(msgs)
        self.converged = continuous.converged and binary.converged

    def summary(self) -> str:
        """Both equations' summaries."""
        return self.continuous.summary() + "\n\n" + self.binary.summary()

    def __repr__(self) -> str:
        return f"<TwoStageProbitLSResults status={self.status!r} nobs={self.nobs}>"


def _ols(y: np.ndarray, x: np.ndarray):
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ coef
    return coef, resid


class TwoStageProbitLS:
    """2SPLS of a continuous and a binary endogenous variable (exog frames WITHOUT constant).

    Column sets may overlap (shared columns must hold the same data). Each equation
    must exclude at least one exogenous column of the other (the instruments).
    """

    def __init__(self, endog_continuous, endog_binary, exog_continuous, exog_binary, missing: str = "drop"):
        y1 = _data.as_series(endog_continuous, "endog_continuous", "y1")
        y2 = _data.as_series(endog_binary, "endog_binary", "y2")
        x1 = _data.as_frame(exog_continuous, "exog_continuous", prefix="x1_")
        x2 = _data.as_frame(exog_binary, "exog_binary", prefix="x2_")
        _data.reject_constant(x1, "exog_continuous")
        _data.reject_constant(x2, "exog_binary")
        if y1.name == y2.name:
            raise UserInputError(f"the two endogenous variables share the name {y1.name!r}", key=y1.name)
        cleaned = _data.clean({"endog_continuous": y1, "endog_binary": y2}, {"exog_continuous": x1, "exog_binary": x2},
                              missing=missing)
        x1c, x2c = cleaned.frames["exog_continuous"], cleaned.frames["exog_binary"]
        self._init_arrays(y1.name, y2.name, cleaned.series["endog_continuous"].values,
                          cleaned.series["endog_binary"].values, x1c.names, x1c.values,
                          x2c.names, x2c.values)

    @classmethod
    def from_arrays(cls, y1_name: str, y2_name: str, y1: np.ndarray, y2: np.ndarray,
                    x1_names: list[str], x1: np.ndarray, x2_names: list[str], x2: np.ndarray
                    ) -> TwoStageProbitLS:
        """The same model from complete float arrays (no missing values, no constant
        column): the suite's path, without the pandas input checks."""
        self = cls.__new__(cls)
        self._init_arrays(y1_name, y2_name, np.asarray(y1, dtype=float),
                          np.asarray(y2, dtype=float), list(x1_names),
                          np.asarray(x1, dtype=float), list(x2_names), np.asarray(x2, dtype=float))
        return self

    def _init_arrays(self, y1_name, y2_name, y1, y2, x1_names, x1, x2_names, x2) -> None:
        """Shared setup: the union of the exogenous columns, identification checks."""
        cols = {name: x1[:, j] for j, name in enumerate(x1_names)}
        for j, name in enumerate(x2_names):
            if name in cols:
                if not np.array_equal(cols[name], x2[:, j], equal_nan=True):
                    raise UserInputError(f"column {name!r} differs between exog_continuous and exog_binary", key=name)
            else:
                cols[name] = x2[:, j]
        for name in (y1_name, y2_name):
            if name in cols:
                raise UserInputError(f"endogenous variable {name!r} also appears among the exog columns", key=name)
        if not set(x2_names) - set(x1_names):
            raise UserInputError("continuous equation not identified: exog_binary has no column outside exog_continuous",
                                 key="exog_binary")
        if not set(x1_names) - set(x2_names):
            raise UserInputError("binary equation not identified: exog_continuous has no column outside exog_binary",
                                 key="exog_continuous")
        self.names_y1, self.names_y2 = y1_name, y2_name
        self.names_x1, self.names_x2 = list(x1_names), list(x2_names)
        self.x_names = [*cols, "const"]
        self.nobs = len(y1)
        self.y1 = y1
        self.y2 = y2
        if not np.all(np.isin(self.y2, (0.0, 1.0))):
            raise UserInputError(f"endog_binary {y2_name!r} must be 0/1", key=y2_name)
        self.x = np.column_stack([*cols.values(), np.ones(self.nobs)])
        pos = {n: i for i, n in enumerate(self.x_names)}
        self.idx1 = [pos[n] for n in self.names_x1] + [pos["const"]]
        self.idx2 = [pos[n] for n in self.names_x2] + [pos["const"]]

    def fit(self) -> TwoStageProbitLSResults:
        """Both stages and Amemiya's corrected covariances (ESTIMATORS.md section 2)."""
        names1 = [self.names_y2, *self.names_x1, "const"]
        names2 = [self.names_y1, *self.names_x2, "const"]
        n, k = self.x.shape
        if n <= k or len(np.unique(self.y2)) < 2:
            msg = f"too few observations ({n}) or no variation in {self.names_y2!r}"
            return TwoStageProbitLSResults(
                failed_results(TwoStageEquationResults, names1, n, msg),
                failed_results(TwoStageEquationResults, names2, n, msg), {},
            )
        with np.errstate(all="ignore"), single_blas_thread():
            return self._fit(names1, names2)

    def _fit(self, names1, names2) -> TwoStageProbitLSResults:
        x, y1, y2 = self.x, self.y1, self.y2
        n, k = x.shape
        # stage 1
        pi1, v1 = _ols(y1, x)
        s11 = float(v1 @ v1) / (n - k)
        st1, _ = fit_probit_arrays(y2, x)
        pi2 = st1.x
        v0, v0_status, v0_msg = invert_neg_hessian(st1.hess)
        xpi2 = x @ pi2
        phi2 = np.exp(-0.5 * xpi2**2) * _INV_SQRT_2PI
        s12 = float(np.mean(y2 * v1 / phi2))
        # stage 2
        z1 = np.column_stack([xpi2, x[:, self.idx1]])
        coef1, r1 = _ols(y1, z1)
        z2 = np.column_stack([x @ pi1, x[:, self.idx2]])
        st2, _ = fit_probit_arrays(y2, z2)
        coef2 = st2.x
        g1, g2 = coef1[0], coef2[0]
        c = s11 - 2.0 * g1 * s12
        d = g2**2 * s11 - 2.0 * g2 * s12
        # selection matrices: X J1 = [X1, 1], X J2 = [X2, 1]
        j1 = np.zeros((k, len(self.idx1)))
        j1[self.idx1, np.arange(len(self.idx1))] = 1.0
        j2 = np.zeros((k, len(self.idx2)))
        j2[self.idx2, np.arange(len(self.idx2))] = 1.0
        h = np.column_stack([pi2, j1])
        g = np.column_stack([pi1, j2])
        xtx = x.T @ x
        ok1, why1 = probit_verdict(st1, y2, x)
        ok2, why2 = probit_verdict(st2, y2, z2)
        status_common = "ok" if ok1 else "not_converged"
        msg_common = "" if ok1 else f"stage-1 probit: {why1}"
        if v0_status != "ok":
            status_common, msg_common = worst_status(status_common, v0_status), f"stage-1 probit: {v0_msg}"
        try:
            q1 = np.linalg.inv(h.T @ xtx @ h)
            var1 = c * q1 + g1**2 * q1 @ h.T @ xtx @ v0 @ xtx @ h @ q1
            v0inv = -st1.hess
            q2 = np.linalg.inv(g.T @ v0inv @ g)
            var2 = q2 + d * q2 @ g.T @ v0inv @ np.linalg.inv(xtx) @ v0inv @ g @ q2
        except np.linalg.LinAlgError as exc:
            msg = f"singular matrix in the corrected covariance: {exc}"
            return TwoStageProbitLSResults(
                failed_results(TwoStageEquationResults, names1, n, msg),
                failed_results(TwoStageEquationResults, names2, n, msg), {},
            )
        # naive second-stage covariances (for comparison only)
        sig2 = float(r1 @ r1) / (n - z1.shape[1])
        naive1 = np.sqrt(np.diag(sig2 * np.linalg.pinv(z1.T @ z1)))
        naive2 = np.sqrt(np.diag(np.linalg.pinv(-st2.hess)))
        llf1 = -0.5 * n * (np.log(2 * np.pi * float(r1 @ r1) / n) + 1)
        status2 = worst_status(status_common, "ok" if ok2 else "not_converged")
        msg2 = "; ".join(m for m in (msg_common, "" if ok2 else f"stage-2 probit: {why2}") if m)
        cont = TwoStageEquationResults(
            pd.Series(coef1, index=names1), var1, nobs=n, llf=llf1, converged=ok1,
            status=status_common, status_message=msg_common, cov_type="amemiya", use_t=True,
            df_resid=n - z1.shape[1], extra={"naive_bse": pd.Series(naive1, index=names1), "c": c},
        )
        binr = TwoStageEquationResults(
            pd.Series(coef2, index=names2), var2, nobs=n, llf=st2.llf, converged=ok1 and ok2,
            status=status2, status_message=msg2, cov_type="amemiya",
            extra={"naive_bse": pd.Series(naive2, index=names2), "d": d},
        )
        stage1 = {
            "pi_continuous": pd.Series(pi1, index=self.x_names),
            "pi_binary": pd.Series(pi2, index=self.x_names),
            "s11": s11, "s12": s12, "z1": z1, "z2": z2, "xh": x @ h, "xg": x @ g,
        }
        return TwoStageProbitLSResults(cont, binr, stage1)
