"""Weighting remedies: raking to chosen margins and weight trimming.

Both return a weight column (a pandas Series aligned on the frame's index). Raking is
iterative proportional fitting written here (about 30 lines) because neither
statsmodels nor scipy offers it; it adjusts weights multiplicatively, one margin at a
time, until every weighted margin matches its target. Margins may be deliberately
wrong (e.g. South Korean arrival shares, themselves selected): the function rakes to
whatever it is given; ``margins_from`` builds margins from any frame.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from sim_refugee.errors import UserInputError, require_columns
from sim_refugee.validation import FrozenModel

Margins = Mapping[str, Mapping[object, float]]


def margins_from(
    frame: pd.DataFrame, columns: list[str], weights: pd.Series | np.ndarray | None = None
) -> dict[str, dict[object, float]]:
    """Weighted shares of each level of each column (e.g. true population margins)."""
    require_columns(frame, columns, "frame (margins_from)")
    w = np.ones(len(frame)) if weights is None else np.asarray(weights, dtype=float)
    out: dict[str, dict[object, float]] = {}
    for col in columns:
        tot = pd.Series(w, index=frame.index).groupby(frame[col].to_numpy()).sum()
        out[col] = {k: float(v) for k, v in (tot / tot.sum()).items()}
    return out


def _few(levels: list[str], k: int = 5) -> str:
    """At most k levels for a message, with the total when there are more."""
    shown = ", ".join(repr(v) for v in levels[:k])
    return f"[{shown}, ... ({len(levels)} in all)]" if len(levels) > k else f"[{shown}]"


def _check_margins(frame: pd.DataFrame, margins: Margins) -> None:
    require_columns(frame, list(margins), "frame (raking margins)")
    for col, shares in margins.items():
        vals = np.array(list(shares.values()), dtype=float)
        if (vals < 0).any() or not np.isfinite(vals).all():
            raise UserInputError(f"margin {col!r}: shares must be finite and >= 0", key=col)
        if abs(vals.sum() - 1.0) > 1e-6:
            raise UserInputError(
                f"margin {col!r}: shares sum to {vals.sum():.6g}, not 1", key=col
            )
        present = set(pd.unique(frame[col].dropna()))
        extra = sorted(map(str, present - set(shares)))
        if extra:
            raise UserInputError(
                f"margin {col!r}: sample level(s) {_few(extra)} have no target share", key=col
            )
        unreachable = sorted(str(k) for k, s in shares.items() if s > 0 and k not in present)
        if unreachable:
            raise UserInputError(
                f"margin {col!r}: level(s) {_few(unreachable)} have a target share but no "
                "sample rows (a continuous column cannot be raked on)",
                key=col,
            )
        if frame[col].isna().any():
            raise UserInputError(f"margin {col!r}: column has missing values", key=col)


def rake(
    frame: pd.DataFrame,
    margins: Margins,
    base_weights: pd.Series | np.ndarray | None = None,
    total: float | None = None,
    tol: float = 1e-12,
    max_iter: int = 1000,
) -> pd.Series:
    """Weights whose weighted shares match every margin (iterative proportional fitting).

    margins: {column: {level: target share}}; shares sum to 1 per column.
    base_weights: starting (design) weights, default 1. total: the weights' sum
    (default: the base weights' sum). Converges when the largest absolute share error
    is below ``tol``; raises UserInputError if it does not within ``max_iter`` sweeps
    (e.g. margins incompatible with empty cells).
    """
    _check_margins(frame, margins)
    w = np.ones(len(frame)) if base_weights is None else np.asarray(base_weights, float).copy()
    if (w < 0).any() or not np.isfinite(w).all():
        raise UserInputError("base_weights must be finite and >= 0", key="base_weights")
    total = float(w.sum()) if total is None else float(total)
    coded = []
    for col, shares in margins.items():
        levels = list(shares)
        codes = pd.Categorical(frame[col], categories=levels).codes
        target = np.array([shares[k] for k in levels], dtype=float)
        coded.append((codes, target))
    for _ in range(max_iter):
        for codes, target in coded:
            cur = np.bincount(codes, weights=w, minlength=len(target))
            factor = np.divide(target * w.sum(), cur, out=np.zeros_like(cur), where=cur > 0)
            w = w * factor[codes]
        err = max(
            np.abs(np.bincount(c, weights=w, minlength=len(t)) / w.sum() - t).max()
            for c, t in coded
        )
        if err < tol:
            return pd.Series(w * total / w.sum(), index=frame.index, name="weight")
    raise UserInputError(
        f"raking did not converge in {max_iter} sweeps (max share error {err:.3g}); "
        "the margins may be incompatible with the sample's cells",
        key="margins",
    )


def trim(
    weights: pd.Series | np.ndarray,
    cap_quantile: float | None = None,
    cap_median_multiple: float | None = None,
) -> pd.Series:
    """Cap weights and redistribute the excess to the uncapped ones (sum preserved).

    The cap is fixed from the input weights: their ``cap_quantile`` quantile or
    ``cap_median_multiple`` times their median (exactly one must be given). Excess
    above the cap is spread proportionally over the weights below it, as often as needed
    until none exceeds the cap (computed exactly, without iterating).
    """
    if (cap_quantile is None) == (cap_median_multiple is None):
        raise UserInputError(
            "give exactly one of cap_quantile and cap_median_multiple", key="cap_quantile"
        )
    index = weights.index if isinstance(weights, pd.Series) else None
    w = np.asarray(weights, dtype=float).copy()
    if (w < 0).any() or not np.isfinite(w).all():
        raise UserInputError("weights must be finite and >= 0", key="weights")
    if cap_quantile is not None:
        if not 0 < cap_quantile <= 1:
            raise UserInputError("cap_quantile must be in (0, 1]", key="cap_quantile")
        cap = float(np.quantile(w, cap_quantile))
    else:
        if cap_median_multiple <= 0:
            raise UserInputError("cap_median_multiple must be > 0", key="cap_median_multiple")
        cap = float(cap_median_multiple * np.median(w))
    total = w.sum()
    if cap * len(w) < total:
        raise UserInputError(
            f"cap {cap:.6g} is below the mean weight: no trimmed weights can keep the sum",
            key="cap_quantile" if cap_quantile is not None else "cap_median_multiple",
        )
    # The result caps a set C of the largest weights and scales the rest by a common
    # factor; the smallest such C whose scaled remainder stays under the cap is exact.
    order = np.argsort(-w, kind="stable")
    sorted_w = w[order]
    rest_sums = np.cumsum(sorted_w[::-1])[::-1]  # sum of sorted_w[k:]
    for k in range(len(w)):
        rest = rest_sums[k]
        if rest <= 0:
            if k == 0:  # every weight is 0: nothing to trim
                break
            raise UserInputError(
                f"cap {cap:.6g}: every weight below the cap is 0, so the excess of the {k} "
                "capped weight(s) cannot be spread (zero weights stay zero)",
                key="cap_quantile" if cap_quantile is not None else "cap_median_multiple",
            )
        factor = (total - k * cap) / rest
        if sorted_w[k] * factor <= cap * (1 + 1e-12):
            sorted_w = np.concatenate([np.full(k, cap), sorted_w[k:] * factor])
            break
    else:  # only reachable through rounding when cap x n is about the total
        sorted_w = np.full(len(w), cap)
    w = np.empty_like(w)
    w[order] = sorted_w
    return pd.Series(w, index=index, name="weight")


# ---------------------------------------------------------------------------
# the weighting remedy as a design option (selectable from an experiment config)
# ---------------------------------------------------------------------------


class WeightingParams(FrozenModel):
    """Post-survey weighting applied at the very end of a design's draw (after artefacts,
    as an analyst would). Off by default (``rake_columns`` empty, no trimming).

    rake_columns: columns to rake on (e.g. ["female", "province"]).
    margins: target shares {column: {level: share}}; columns of ``rake_columns`` missing
        here are raked to the TRUE population margins (the oracle), so deliberately
        wrong margins are given explicitly (e.g. another source's shares).
    trim_median_multiple / trim_quantile: cap after raking (at most one).
    The design's own weight (1 where it defines none) is the base weight and is kept in
    ``design_weight``; ``weight`` is replaced.
    """

    rake_columns: tuple[str, ...] = ()
    margins: dict[str, dict[str, float]] = Field(default_factory=dict)
    trim_median_multiple: float | None = Field(None, gt=0.0)
    trim_quantile: float | None = Field(None, gt=0.0, le=1.0)

    @model_validator(mode="after")
    def _consistent(self) -> WeightingParams:
        extra = sorted(set(self.margins) - set(self.rake_columns))
        if extra:
            raise ValueError(f"margins given for column(s) {extra} not in rake_columns")
        if self.trim_median_multiple is not None and self.trim_quantile is not None:
            raise ValueError("give at most one of trim_median_multiple and trim_quantile")
        return self

    @property
    def active(self) -> bool:
        """True when the params ask for any reweighting."""
        return bool(self.rake_columns) or self.trim_median_multiple is not None or (
            self.trim_quantile is not None
        )


def apply_weighting(
    sample: pd.DataFrame, pop: pd.DataFrame, params: WeightingParams | None
) -> pd.DataFrame:
    """The sample with ``weight`` raked/trimmed as ``params`` asks (input untouched).

    Levels are matched as strings, so TOML keys such as "0"/"1" match 0/1 columns.
    """
    if params is None or not params.active:
        return sample
    out = sample.copy()
    base = out["weight"].to_numpy(dtype=float)
    if not np.isfinite(base).all():
        base = np.ones(len(out))
    out["design_weight"] = out["weight"]
    w = pd.Series(base, index=out.index)
    if params.rake_columns:
        cols = list(params.rake_columns)
        require_columns(out, cols, "sample (weighting.rake_columns)")
        require_columns(pop, [c for c in cols if c not in params.margins],
                        "population (weighting.rake_columns)")
        truth = margins_from(pop[[c for c in cols if c not in params.margins]].astype(str),
                             [c for c in cols if c not in params.margins])
        margins = {c: {str(k): float(v) for k, v in params.margins[c].items()}
                   if c in params.margins else truth[c] for c in cols}
        w = rake(out[cols].astype(str), margins, base_weights=w, total=float(len(pop)))
    if params.trim_median_multiple is not None or params.trim_quantile is not None:
        w = trim(w, cap_quantile=params.trim_quantile,
                 cap_median_multiple=params.trim_median_multiple)
    out["weight"] = w.to_numpy()
    return out
