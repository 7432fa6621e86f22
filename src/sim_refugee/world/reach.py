"""Reachability under the paper's site-based convenience design.

The world needs it for calibration (the documented margins are margins of the paper's
SAMPLE) and the paper design needs it to draw; both use this one definition.

logit(reach) = base + log(or_urban) urban_china + log(or_border) northeast
             + log(or_korean_chinese) korean_chinese_host + log(or_church) church_tie
             + log(or_time_per_year) years_in_china + log(or_distress) distress
             + log(or_worker) [occupation == worker]
             + log(or_famine) (foodaid + death);
people outside every site catchment (home_site == "none") are unreachable.
Every odds ratio is a named assumption (defaults in targets/assumptions.yaml);
OR = 1 switches that selection channel off.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import Field
from scipy.special import expit

from sim_refugee.targets import assumption_defaults
from sim_refugee.validation import FrozenModel

_D = assumption_defaults()

#: The 11 survey sites (sec. I; 'Yangbin' read as Yanbian).
SITES: tuple[str, ...] = (
    "Shenyang", "Changchun", "Harbin", "Yanbian", "Tumen", "Helong", "Hunchun",
    "Dandong", "Jilin", "Tonghua", "Wangqing",
)

REACH_COLUMNS = (
    "urban_china", "northeast", "korean_chinese_host", "church_tie", "years_in_china",
    "distress", "occupation", "home_site", "foodaid", "death",
)


def _or(name: str) -> float:
    return float(_D[f"reach.{name}"])


class ReachParams(FrozenModel):
    """Selection strength of the paper design: odds ratios per channel (1 = no selection)."""

    base: float = Field(_D["reach.base"], description="baseline log-odds")
    or_urban: float = Field(_or("or_urban"), gt=0)
    or_border: float = Field(_or("or_border"), gt=0)
    or_korean_chinese: float = Field(_or("or_korean_chinese"), gt=0)
    or_church: float = Field(_or("or_church"), gt=0)
    or_time_per_year: float = Field(_or("or_time_per_year"), gt=0)
    or_distress: float = Field(_or("or_distress"), gt=0)
    or_worker: float = Field(_or("or_worker"), gt=0)
    or_famine: float = Field(_or("or_famine"), gt=0)

    @classmethod
    def none(cls) -> ReachParams:
        """No selection on any channel (every odds ratio 1)."""
        return cls(**{k: 1.0 for k in cls.model_fields if k.startswith("or_")})


def reach_propensity(cols: dict[str, np.ndarray] | pd.DataFrame, p: ReachParams) -> np.ndarray:
    """Per-person reach probability (0 outside every catchment)."""
    eta = (
        p.base
        + np.log(p.or_urban) * np.asarray(cols["urban_china"], dtype=float)
        + np.log(p.or_border) * np.asarray(cols["northeast"], dtype=float)
        + np.log(p.or_korean_chinese) * np.asarray(cols["korean_chinese_host"], dtype=float)
        + np.log(p.or_church) * np.asarray(cols["church_tie"], dtype=float)
        + np.log(p.or_time_per_year) * np.asarray(cols["years_in_china"], dtype=float)
        + np.log(p.or_distress) * np.asarray(cols["distress"], dtype=float)
        + np.log(p.or_worker) * _is_level(cols["occupation"], "worker", 0)
        + np.log(p.or_famine) * (np.asarray(cols["foodaid"], dtype=float)
                                 + np.asarray(cols["death"], dtype=float))
    )
    r = expit(eta)
    r[site_codes(cols["home_site"]) < 0] = 0.0
    return r


def _is_level(x, label: str, code: int) -> np.ndarray:
    """x == label for string columns, x == code for the generator's integer codes."""
    x = np.asarray(x)
    return x == (code if np.issubdtype(x.dtype, np.integer) else label)


def site_codes(home_site) -> np.ndarray:
    """Index into SITES per person; -1 for "none" (accepts strings or integer codes)."""
    x = np.asarray(home_site)
    if np.issubdtype(x.dtype, np.integer):
        return np.where(x >= len(SITES), -1, x).astype(np.int64)
    return pd.Index(list(SITES)).get_indexer(x).astype(np.int64)  # -1 when not a site


def largest_remainder(total: int, shares: np.ndarray, minimum: int = 0) -> np.ndarray:
    """Integers summing to ``total``, proportional to ``shares`` (Hamilton's method)."""
    shares = np.asarray(shares, float) / np.sum(shares)
    base = np.full(len(shares), minimum, dtype=np.int64)
    raw = shares * (total - base.sum())
    out = base + np.floor(raw).astype(np.int64)
    short = int(total - out.sum())
    if short > 0:
        order = np.argsort(-(raw - np.floor(raw)), kind="stable")
        out[order[:short]] += 1
    return out


def allocate_interviews(n: int, quotas: np.ndarray, avail: np.ndarray) -> np.ndarray:
    """Quota allocation of n interviews over SITES, capped by the number each site can
    reach (overflow goes to the other sites in proportion to their quotas)."""
    quotas = np.asarray(quotas, float)
    alloc = np.zeros(len(quotas), dtype=np.int64)
    open_ = (quotas > 0) & (avail > 0)
    remaining = n
    while remaining > 0:
        if not open_.any():  # only zero-quota sites left: use them by availability
            open_ = avail - alloc > 0
            share = (avail - alloc).astype(float)
        else:
            share = np.where(open_, quotas, 0.0)
        new = np.minimum(alloc + largest_remainder(remaining, share), avail)
        remaining = n - int(new.sum())
        open_ &= new < avail
        alloc = new
    return alloc


def successive_sampling_pi(reach: np.ndarray, k: int) -> np.ndarray:
    """Inclusion probabilities of k draws without replacement proportional to ``reach``
    (successive sampling), by the standard approximation pi_i = 1 - exp(-lam reach_i)
    with lam solving sum(pi) = k (Newton from the left: the sum is concave in lam)."""
    if k >= np.count_nonzero(reach > 0):
        return (reach > 0).astype(float)
    lam = k / reach.sum()
    for _ in range(100):
        e = np.exp(-lam * reach)
        f = np.sum(1.0 - e) - k
        if abs(f) < 1e-9 * max(k, 1):
            break
        lam -= f / np.sum(reach * e)
    return -np.expm1(-lam * reach)


def expected_sample_weights(
    reach: np.ndarray, home_site, quotas: dict[str, float], n: int | None = None
) -> np.ndarray:
    """omega_i: person i's share of the expected paper-design sample (sums to 1), so that
    the expected sample mean of y is sum_i omega_i y_i.

    n given: site s gets n_s interviews (quota allocation) drawn proportional to reach
    without replacement; omega_i = pi_i / n with pi_i the successive-sampling inclusion
    probability (checked against repeated draws at n = 20,000 of 60,000 in
    tests/designs/test_paper.py). n None: the n << catchment limit,
    omega_i = quota_s reach_i / sum_{j in s} reach_j.
    """
    code = site_codes(home_site)
    q = np.array([quotas.get(s, 0.0) for s in SITES], dtype=float)
    q = q / q.sum()
    inside = (code >= 0) & (reach > 0)
    omega = np.zeros(len(reach))
    if n is None:
        r_site = np.bincount(code[inside], weights=reach[inside], minlength=len(SITES))
        factor = np.divide(q, r_site, out=np.zeros_like(q), where=r_site > 0)
        omega[inside] = reach[inside] * factor[code[inside]]
    else:
        avail = np.bincount(code[inside], minlength=len(SITES))
        if n > avail.sum():
            raise ValueError(f"n={n} exceeds the {avail.sum()} people reachable by the paper design")
        alloc = allocate_interviews(n, q, avail)
        for s in np.flatnonzero(alloc):
            m = inside & (code == s)
            omega[m] = successive_sampling_pi(reach[m], int(alloc[s]))
    tot = omega.sum()
    return omega / tot if tot > 0 else omega
