"""Shared results base: params, covariance, inference and a status that never hides failure.

Every estimator in this package returns a subclass of :class:`EstimationResults`. The
fields mirror statsmodels (``params``, ``bse``, ``pvalues``, ``conf_int()``,
``cov_params()``, ``llf``, ``nobs``, ``summary()``) plus ``converged``, ``status`` and
``status_message`` (Contract 4 of docs/ARCHITECTURE.md).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim_refugee.estimators.covariance import check_psd

STATUSES = ("ok", "not_converged", "singular_hessian", "non_psd_cov", "failed")
# Severity order used when several problems occur: the most severe is reported.
_SEVERITY = {s: i for i, s in enumerate(("ok", "non_psd_cov", "singular_hessian", "not_converged", "failed"))}


def worst_status(*statuses: str) -> str:
    """The most severe of several status strings."""
    return max(statuses, key=lambda s: _SEVERITY[s])


class EstimationResults:
    """Point estimates, covariance and status of one fitted model.

    ``use_t``/``df_resid`` switch inference to Student-t (OLS equations); otherwise
    inference is large-sample normal (z), as for maximum-likelihood fits.
    """

    model_name = "model"

    def __init__(
        self,
        params: pd.Series,
        cov: np.ndarray,
        *,
        nobs: int,
        llf: float = float("nan"),
        converged: bool = True,
        status: str = "ok",
        status_message: str = "",
        cov_type: str = "nonrobust",
        use_t: bool = False,
        df_resid: float | None = None,
        n_iter: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        if status not in STATUSES:  # programming error, not user input
            raise ValueError(f"unknown status {status!r}")
        self.params = params if params.dtype == float else params.astype(float)
        index = params.index
        cov = np.asarray(cov, dtype=float)
        psd, min_eig = check_psd(cov) if cov.size else (True, 0.0)
        #: False when the covariance matrix is not positive semi-definite (or not finite).
        self.cov_psd = psd
        if status == "ok" and cov.size:
            if not psd:
                status = "non_psd_cov"
                status_message = f"covariance not positive semi-definite (min eigenvalue {min_eig:.3g})"
        self._cov = cov
        diag = np.diag(cov) if cov.size else np.zeros(0)
        with np.errstate(invalid="ignore"):
            bse = np.where(diag > 0, np.sqrt(np.where(diag > 0, diag, 0.0)), np.nan)
        self.bse = pd.Series(bse, index=index, dtype=float)
        self.nobs = int(nobs)
        self.llf = float(llf)
        self.converged = bool(converged)
        self.status = status
        self.status_message = status_message
        self.cov_type = cov_type
        self.use_t = use_t
        self.df_resid = df_resid
        self.n_iter = n_iter
        for key, value in (extra or {}).items():
            setattr(self, key, value)

    # -- inference -------------------------------------------------------------
    def cov_params(self) -> pd.DataFrame:
        """The estimated covariance matrix of ``params`` (DataFrame by term)."""
        return pd.DataFrame(self._cov.copy(), index=self.params.index, columns=self.params.index)

    @property
    def tvalues(self) -> pd.Series:
        """Estimate / standard error."""
        return self.params / self.bse

    def _dist(self):
        if self.use_t and self.df_resid is not None and self.df_resid > 0:
            return stats.t(self.df_resid)
        return stats.norm

    @property
    def pvalues(self) -> pd.Series:
        """Two-sided p-values (t with ``df_resid`` if ``use_t``, else normal)."""
        return pd.Series(2 * self._dist().sf(np.abs(self.tvalues.to_numpy())), index=self.params.index)

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Wald confidence intervals, columns ``lower`` and ``upper``."""
        q = self._dist().ppf(1 - alpha / 2)
        return pd.DataFrame(
            {"lower": self.params - q * self.bse, "upper": self.params + q * self.bse}
        )

    @property
    def df_model(self) -> int:
        """Number of estimated parameters."""
        return len(self.params)

    @property
    def aic(self) -> float:
        """-2 lnL + 2 p."""
        return -2 * self.llf + 2 * self.df_model

    @property
    def bic(self) -> float:
        """-2 lnL + p ln N."""
        return -2 * self.llf + self.df_model * np.log(self.nobs)

    # -- display ---------------------------------------------------------------
    def summary_frame(self, alpha: float = 0.05) -> pd.DataFrame:
        """Coefficient table as a DataFrame."""
        ci = self.conf_int(alpha)
        return pd.DataFrame(
            {
                "coef": self.params,
                "std err": self.bse,
                "t" if self.use_t else "z": self.tvalues,
                "P>|t|" if self.use_t else "P>|z|": self.pvalues,
                f"[{alpha / 2:g}": ci["lower"],
                f"{1 - alpha / 2:g}]": ci["upper"],
            }
        )

    def _summary_header(self) -> list[str]:
        return [
            f"{self.model_name} results",
            f"No. observations: {self.nobs}    Log-likelihood: {self.llf:.4f}",
            f"Covariance: {self.cov_type}    Converged: {self.converged}    "
            f"Status: {self.status}" + (f" ({self.status_message})" if self.status_message else ""),
        ]

    def summary(self) -> str:
        """A plain-text summary: header lines and the coefficient table."""
        lines = self._summary_header()
        # to_string prints every column unwrapped: no display option applies
        table = self.summary_frame().to_string(float_format=lambda v: f"{v:.4f}")
        rule = "=" * max(len(line) for line in table.splitlines())
        return "\n".join([rule, *lines, rule, table, rule])

    def __repr__(self) -> str:
        return f"<{type(self).__name__} status={self.status!r} nobs={self.nobs} llf={self.llf:.3f}>"


def failed_results(
    cls: type[EstimationResults], names: list[str], nobs: int, message: str, **extra: Any
) -> EstimationResults:
    """A results object of class ``cls`` with NaN estimates and status ``'failed'``."""
    p = len(names)
    return cls(
        pd.Series(np.full(p, np.nan), index=names),
        np.full((p, p), np.nan),
        nobs=nobs,
        converged=False,
        status="failed",
        status_message=message,
        extra=extra,
    )
