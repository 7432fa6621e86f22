"""The cost model of a design: what one configuration (design, parameters, n) costs.

Unit: one convenience interview in a city site (``per_interview`` of the paper design)
costs 1. No number here comes from the paper (Chang, Haggard & Noland 2008 report no
fieldwork costs): every default is a named ASSUMPTION, listed with its reason in
``DEFAULT_COSTS`` and overridable per design label in ``[plan.costs.<label>]``.

    cost = fixed
         + per_interview * n
         + sites * per_site_setup + ceil(n / interviews_per_site_day) * per_site_day
         + interviewers * per_interviewer
         + recruits * per_coupon            (RDS: the n - n_seeds recruited by coupon)
         + waves * per_wave
         + reference_n * per_reference_interview   (a probability reference sample)

``sites``, ``interviewers`` and ``waves`` default to the design's own parameters where it
has them (``n_interviewers``, for the combined design its convenience part's; the paper
design's 11 city sites) and to the table below
otherwise; ``reference_n`` to the design's ``reference_n`` parameter (the combined
convenience + reference design), else 0.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import Field

from sim_refugee.validation import StrictModel

_BIG = 1e12


class CostModel(StrictModel):
    """[plan.costs.<label>]: unit costs and counts (None: from the design or the default)."""

    fixed: float = Field(default=0.0, ge=0, le=_BIG)
    per_interview: float = Field(default=1.0, ge=0, le=_BIG)
    per_site_setup: float = Field(default=0.0, ge=0, le=_BIG)
    per_site_day: float = Field(default=0.0, ge=0, le=_BIG)
    interviews_per_site_day: float = Field(default=10.0, gt=0, le=_BIG)
    sites: int | None = Field(default=None, ge=0, le=1_000_000)
    per_interviewer: float = Field(default=0.0, ge=0, le=_BIG)
    interviewers: int | None = Field(default=None, ge=0, le=1_000_000)
    per_coupon: float = Field(default=0.0, ge=0, le=_BIG)
    per_wave: float = Field(default=0.0, ge=0, le=_BIG)
    waves: int | None = Field(default=None, ge=0, le=1_000_000)
    per_reference_interview: float = Field(default=0.0, ge=0, le=_BIG)


#: Default cost models by design NAME (not label), each value an assumption with its reason.
DEFAULT_COSTS: dict[str, dict[str, Any]] = {
    "paper": dict(
        per_interview=1.0, sites=11, per_site_setup=30.0, per_site_day=2.0,
        interviews_per_site_day=10.0, per_interviewer=5.0,
        reason="the unit of cost. sites = 11: the paper's 11 city sites (a fact, "
               "designs/paper.py). Assumptions: a site costs 30 interviews to set up "
               "(contacts, travel, safe houses), 2 per field day, 10 interviews per site-day; "
               "training an interviewer costs 5 interviews."),
    "quota": dict(
        per_interview=1.1, sites=11, per_site_setup=30.0, per_site_day=2.0,
        interviews_per_site_day=9.0, per_interviewer=5.0,
        reason="assumption: as the paper design, 10% dearer per interview and 10% slower "
               "(filling quota cells means turning people away)."),
    "tls": dict(
        per_interview=1.5, sites=20, per_site_setup=15.0, per_site_day=2.0,
        interviews_per_site_day=8.0, per_interviewer=5.0,
        reason="assumption: venue mapping and random venue-day-time units make an interview "
               "half again as dear; 20 venues, each cheaper to open than a city site; "
               "8 intercepts per venue-day."),
    "rds": dict(
        per_interview=1.0, sites=1, per_site_setup=30.0, per_site_day=2.0,
        interviews_per_site_day=6.0, per_interviewer=5.0, per_coupon=0.5, per_wave=10.0,
        waves=6,
        reason="assumption: one interview office; a recruitment incentive of half an "
               "interview per coupon redeemed; 10 per wave for the coupon tracking; 6 waves "
               "(typical RDS surveys reach equilibrium in 4-8)."),
    "snowball": dict(
        per_interview=1.0, sites=1, per_site_setup=30.0, per_site_day=2.0,
        interviews_per_site_day=6.0, per_interviewer=5.0, waves=6,
        reason="assumption: as RDS without coupons or their tracking."),
    "srs": dict(
        per_interview=4.0, sites=0, per_interviewer=5.0,
        reason="assumption: no frame of refugees exists; an SRS stands for the (hypothetical) "
               "cost of locating a listed person, four convenience interviews each."),
    "convref": dict(
        per_interview=1.0, sites=11, per_site_setup=30.0, per_site_day=2.0,
        interviews_per_site_day=10.0, per_interviewer=5.0, per_reference_interview=4.0,
        reason="the paper design's costs for the convenience part (above); a reference "
               "interview is priced as an SRS interview (assumption: 4)."),
}


def resolved_costs(design_name: str, given: CostModel | None) -> CostModel:
    """The design's default cost model with the keys the config gives on top."""
    base = {k: v for k, v in DEFAULT_COSTS.get(design_name, {}).items() if k != "reason"}
    if given is not None:
        base.update(given.model_dump(exclude_unset=True))
    return CostModel.model_validate(base)


def default_reason(design_name: str) -> str:
    """Where the design's default costs come from."""
    d = DEFAULT_COSTS.get(design_name)
    return d["reason"] if d else "assumption: 1 per interview, nothing else (no default table)"


def cost(model: CostModel, n: int, design_params: dict[str, Any] | None = None) -> float:
    """The cost of one configuration: ``n`` interviews with ``design_params``."""
    dp = design_params or {}
    conv = dp.get("convenience")  # the combined design: its convenience part's interviewers
    n_int = dp.get("n_interviewers", conv.get("n_interviewers") if isinstance(conv, dict) else 0)
    interviewers = model.interviewers if model.interviewers is not None else int(n_int or 0)
    sites = model.sites or 0
    waves = model.waves or 0
    recruits = max(n - int(dp.get("n_seeds", 0)), 0) if "coupons" in dp else 0
    reference_n = int(dp.get("reference_n", 0) or 0)
    site_days = math.ceil(n / model.interviews_per_site_day) if sites or model.per_site_day else 0
    return float(model.fixed + model.per_interview * n
                 + sites * model.per_site_setup + site_days * model.per_site_day
                 + interviewers * model.per_interviewer + recruits * model.per_coupon
                 + waves * model.per_wave + reference_n * model.per_reference_interview)
