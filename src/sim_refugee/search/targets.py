"""Search targets (tipping and plan): what counts as the event whose share crosses a threshold.

Four kinds, each read from the engine's chunk and estimand datasets (Contract 6), so
any unit works:

* ``claim``: the claim holds in the sample (the engine's claim value is 1); the
  threshold is ``share`` (default 0.5);
* ``term``: the term is significant at ``alpha`` (two-sided p < alpha, the unit's own
  p-value) with the declared sign (default positive); threshold ``share``;
* ``coverage``: the interval est +/- z(1 - alpha/2) se MISSES the census value (the
  estimand of the same world); the coverage falls below ``level`` when the share of
  misses rises above 1 - level;
* ``rmse`` (plan only): the RMSE of the term's estimate against the census value is at
  most ``max``. Not a share: the outcome of a replication is its error est - theta
  (NaN when it cannot be judged), searched by ``search.rmse.RmseSearch``.

A replication in which the target cannot be judged (a failed replication, a fit whose
status is not "ok", a NaN estimate, a claim that is not evaluable) counts as not
producing the claim or rejection and as not covering: the diagnosis's basis "all". Such
replications are counted in ``failures``.

Truth in the population (the ``truth`` column): the claim's truth in the census fit,
or for a term "positive (negative) and p < alpha in the census fit" (NaN when the unit's
census has no p-value, e.g. the toy unit). Not defined for coverage.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import xarray as xr
from pydantic import Field, model_validator
from scipy import stats

from sim_refugee.errors import UserInputError
from sim_refugee.validation import StrictModel

Kind = Literal["claim", "term", "coverage", "rmse"]
KINDS: tuple[str, ...] = ("claim", "term", "coverage", "rmse")
DEFAULT_SHARE = 0.5
DEFAULT_LEVEL = 0.9


class TargetEntry(StrictModel):
    """One [[tipping.targets]] (or [[plan.targets]]) table: exactly one of claim, term,
    coverage or rmse (plan only; with ``max``, the largest RMSE allowed)."""

    claim: str | None = Field(default=None, min_length=1)
    term: str | None = Field(default=None, min_length=1, description="model:term")
    coverage: str | None = Field(default=None, min_length=1, description="model:term")
    rmse: str | None = Field(default=None, min_length=1, description="model:term")
    max: float | None = Field(default=None, gt=0, allow_inf_nan=False,
                              description="largest RMSE allowed (rmse targets)")
    share: float | None = Field(default=None, gt=0, lt=1)
    level: float | None = Field(default=None, gt=0, lt=1)
    alpha: float | None = Field(default=None, gt=0, lt=1)
    sign: Literal["positive", "negative"] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> TargetEntry:
        given = [k for k in KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'claim', 'term', 'coverage' or 'rmse'"
                             + (f" (got {', '.join(given)})" if given else ""))
        kind = given[0]
        if kind == "rmse":
            extra = [k for k in ("share", "level", "alpha", "sign") if getattr(self, k) is not None]
            if extra:
                raise ValueError(f"an rmse target takes only 'max' (got {', '.join(extra)})")
            if self.max is None:
                raise ValueError("an rmse target needs 'max', the largest RMSE allowed")
            return self
        if self.max is not None:
            raise ValueError("'max' is for rmse targets")
        if kind == "coverage" and self.share is not None:
            raise ValueError("'share' is for claim and term targets; coverage takes 'level'")
        if kind != "coverage" and self.level is not None:
            raise ValueError("'level' is for coverage targets; claims and terms take 'share'")
        if kind == "claim" and (self.alpha is not None or self.sign is not None):
            raise ValueError("a claim has its own significance rule: no 'alpha' or 'sign'")
        if kind == "coverage" and self.sign is not None:
            raise ValueError("'sign' is for term targets")
        return self


@dataclass(frozen=True)
class Target:
    """A resolved target: its label, kind, what it reads and the share to reach."""

    label: str
    kind: Kind
    ref: str  # claim id or "model:term"
    threshold: float  # the share of events at which the target tips
    alpha: float = 0.05
    sign: int = 1

    @property
    def description(self) -> str:
        if self.kind == "claim":
            return f"claim {self.ref} holds in >= {self.threshold:g} of samples"
        if self.kind == "term":
            s = "positive" if self.sign > 0 else "negative"
            return (f"{self.ref} {s} and significant at {self.alpha:g} in >= "
                    f"{self.threshold:g} of samples")
        if self.kind == "rmse":
            return f"RMSE of {self.ref} at most {self.threshold:g}"
        return f"coverage of {self.ref} below {1 - self.threshold:g}"

    def events(self, chunk: xr.Dataset, estimand: xr.Dataset | None) -> tuple[np.ndarray, np.ndarray]:
        """(event 0/1, judged bool) per replication of an engine chunk dataset; for an
        rmse target the "event" is the error est - theta (NaN where not judged)."""
        ok_rep = chunk["rep_status"].values == "ok"
        if self.kind == "claim":
            v = chunk["claims"].sel(claim=self.ref).values.astype(float)
            judged = ok_rep & np.isfinite(v)
            return (judged & (v == 1)).astype(float), judged
        est, se, p = _stats(chunk["estimates"], self.ref)
        model = self.ref.split(":", 1)[0]
        ok_fit = ok_rep & (chunk["model_status"].sel(model=model).values == "ok")
        if self.kind == "term":
            judged = ok_fit & np.isfinite(est) & np.isfinite(p)
            with np.errstate(invalid="ignore"):
                hit = judged & (p < self.alpha) & (self.sign * est > 0)
            return hit.astype(float), judged
        assert estimand is not None
        theta = float(estimand["estimand"].sel(model_term=self.ref, statistic="estimate"))
        if self.kind == "rmse":
            judged = ok_fit & np.isfinite(est) & math.isfinite(theta)
            return np.where(judged, est - theta, np.nan), judged
        z = float(stats.norm.isf(self.alpha / 2))
        judged = ok_fit & np.isfinite(est) & np.isfinite(se) & math.isfinite(theta)
        with np.errstate(invalid="ignore"):
            covered = judged & (np.abs(est - theta) <= z * se)
        return (~covered).astype(float), judged

    def truth(self, estimand: xr.Dataset) -> float:
        """The target in the population (1/0, NaN if not defined or not evaluable)."""
        if self.kind == "claim":
            return float(estimand["claim_truth"].sel(claim=self.ref))
        if self.kind in ("coverage", "rmse"):
            return math.nan
        e = estimand["estimand"].sel(model_term=self.ref)
        est, p = float(e.sel(statistic="estimate")), float(e.sel(statistic="pvalue"))
        model = self.ref.split(":", 1)[0]
        ok = str(estimand["estimand_status"].sel(model=model).values) == "ok"
        if not (ok and math.isfinite(est) and math.isfinite(p)):
            return math.nan
        return float(p < self.alpha and self.sign * est > 0)


def _stats(estimates: xr.DataArray, ref: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a = estimates.sel(model_term=ref)
    return tuple(a.sel(statistic=s).values.astype(float) for s in ("estimate", "se", "pvalue"))


def resolve_targets(entries: list[TargetEntry], claims: tuple[str, ...],
                    labels: tuple[str, ...], share: float, level: float,
                    prefix: str = "tipping.targets") -> list[Target]:
    """Targets from the config, checked against the unit's layout (claims, model:term
    labels); errors name ``<prefix>.<i>.<key>`` (``tipping.targets`` or ``plan.targets``)."""
    out: list[Target] = []
    for i, t in enumerate(entries):
        key = f"{prefix}.{i}"
        if t.claim is not None:
            if t.claim not in claims:
                raise UserInputError(
                    f"config key '{key}.claim': unknown claim {t.claim!r} for this unit; "
                    f"known: {_some(claims)}", key=f"{key}.claim")
            out.append(Target(f"claim:{t.claim}", "claim", t.claim, t.share or share))
            continue
        kind: Kind = next(k for k in ("term", "coverage", "rmse") if getattr(t, k) is not None)
        ref = getattr(t, kind)
        assert ref is not None
        if ref not in labels:
            raise UserInputError(
                f"config key '{key}.{kind}': unknown term {ref!r} (expected model:term); "
                f"known: {_some(labels)}", key=f"{key}.{kind}")
        alpha = t.alpha if t.alpha is not None else 0.05
        if kind == "term":
            sign = -1 if t.sign == "negative" else 1
            label = f"term:{ref}" + (" (negative)" if sign < 0 else "")
            out.append(Target(label, "term", ref, t.share or share, alpha, sign))
        elif kind == "rmse":
            assert t.max is not None
            out.append(Target(f"rmse:{ref}", "rmse", ref, float(t.max)))
        else:
            lev = t.level if t.level is not None else level
            out.append(Target(f"coverage:{ref}", "coverage", ref, 1.0 - lev, alpha))
    seen: dict[str, int] = {}
    for i, t in enumerate(out):
        if t.label in seen:
            raise UserInputError(
                f"config key '{prefix}.{i}': target {t.label!r} is listed twice "
                f"(also {prefix}.{seen[t.label]})", key=f"{prefix}.{i}")
        seen[t.label] = i
    return out


def _some(names: tuple[str, ...], k: int = 12) -> str:
    return ", ".join(names[:k]) + (f", ... ({len(names)} in all)" if len(names) > k else "")
