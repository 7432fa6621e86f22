"""Time-location (venue-day-time) sampling with the standard TLS weights.

Frame: every venue x day x time slot of the venue structure (``world.venues``).
Stage 1: k units drawn with equal probability without replacement, P(VDT) = k / M.
Stage 2: at a unit, the attendees present (each linked person with their per-slot
rate) are counted; people already interviewed are screened out; up to
``intercepts_per_unit`` of the rest are intercepted at random,
P(intercept | unit) = intercepted / eligible attendees. If more than n are intercepted
overall, n are kept at random (a further uniform factor n / total).
Weight (Karon & Wejnert 2012): 1 / (P(VDT) x P(intercept) x visit frequency), the
frequency being the expected number of frame units the person attends (as reported:
``frequency_report_power`` and ``frequency_error_sd`` add systematic and log-normal
reporting error). Without screening this
Horvitz-Thompson weighting is exactly unbiased for totals over attenders; screening
repeats adds an error of the order of the sampling fraction. Non-attenders are never
reached: that bias no weight can remove.

``incl_prob`` is the product P(VDT) x P(intercept) x frequency, strictly the expected
number of times the person would be selected (a multiplicity-adjusted probability;
it can exceed 1 for very frequent attenders when many units are drawn); ``weight`` is
its inverse. ``vdt_unit`` identifies the primary sampling unit for cluster-robust SEs.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
from pydantic import Field

from sim_refugee.designs.artefacts import assemble_sample
from sim_refugee.designs.base import BaseDesign, DesignParams
from sim_refugee.errors import UserInputError
from sim_refugee.world.venues import VenueParams, Venues, build_venues


class TLSParams(DesignParams):
    """venues: the venue structure's parameters (built once per population).
    intercepts_per_unit: interview cap per venue-day-time unit.
    unit_inflation: units drawn = ceil(unit_inflation x n / expected yield per unit),
        so the n interviews are nearly always reached.
    frequency_error_sd: SD of the log-normal error in reported visit frequency (0 = exact).
    frequency_report_power: reported frequency = true ** power (x the log-normal error);
        power < 1 compresses reports (frequent attenders under-report), 1 = exact.
    """

    venues: VenueParams = VenueParams()
    intercepts_per_unit: int = Field(10, ge=1)
    unit_inflation: float = Field(1.5, ge=1.0)
    frequency_error_sd: float = Field(0.0, ge=0.0)
    frequency_report_power: float = Field(1.0, gt=0.0)
    n_interviewers: int = Field(48, ge=1)


def tls_weights(
    p_unit: float | np.ndarray, p_intercept: np.ndarray, visit_frequency: np.ndarray
) -> np.ndarray:
    """The TLS weight 1 / (P(VDT) x P(intercept) x visit frequency)."""
    return 1.0 / (np.asarray(p_unit) * np.asarray(p_intercept) * np.asarray(visit_frequency))


class TLSDesign(BaseDesign):
    """Time-location sampling."""

    name: ClassVar[str] = "tls"
    Params: ClassVar[type[DesignParams]] = TLSParams

    def prepare(self, pop: pd.DataFrame, params: TLSParams, rng: np.random.Generator) -> Venues:
        """The venues and attendance links of this population."""
        return build_venues(pop, params.venues, rng)

    def select(
        self, pop: pd.DataFrame, state: Venues, n: int, params: TLSParams,
        rng: np.random.Generator,
    ) -> pd.DataFrame:
        """Up to n intercepts (fewer only if the drawn units run dry), with TLS weights."""
        ven = state
        m = params.intercepts_per_unit
        n_units = ven.n_units
        exp_att = ven.expected_attendance()
        yield_per_unit = np.mean(np.minimum(m, exp_att))
        if yield_per_unit <= 0:
            raise UserInputError("no venue has any attendee", key="venues")
        k = int(min(n_units, np.ceil(params.unit_inflation * n / yield_per_unit)))
        units = rng.choice(n_units, size=k, replace=False)
        p_unit = k / n_units
        seen = np.zeros(len(pop), dtype=bool)
        rows, p_int, unit_of = [], [], []
        for u in units:
            v = u // ven.slots
            lo, hi = ven.venue_start[v], ven.venue_start[v + 1]
            present = ven.link_person[lo:hi][rng.random(hi - lo) < ven.link_rate[lo:hi]]
            eligible = present[~seen[present]]
            if eligible.size == 0:
                continue
            take = rng.choice(eligible, size=min(m, eligible.size), replace=False)
            seen[take] = True
            rows.append(take)
            p_int.append(np.full(take.size, take.size / eligible.size))
            unit_of.append(np.full(take.size, u))
        rows_a = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        p_int_a = np.concatenate(p_int) if p_int else np.zeros(0)
        unit_a = np.concatenate(unit_of) if unit_of else np.zeros(0, dtype=np.int64)
        if rows_a.size > n:
            keep = np.sort(rng.choice(rows_a.size, size=n, replace=False))
            p_int_a = p_int_a[keep] * (n / rows_a.size)
            rows_a, unit_a = rows_a[keep], unit_a[keep]
        freq = ven.visit_frequency[rows_a] ** params.frequency_report_power
        if params.frequency_error_sd > 0:
            freq = freq * np.exp(rng.normal(0.0, params.frequency_error_sd, freq.size))
        incl = p_unit * p_int_a * freq
        venue_idx = unit_a // ven.slots
        # one interviewer per unit (interviews at a venue-time share their interviewer)
        uniq_units, unit_code = np.unique(unit_a, return_inverse=True)
        unit_interviewer = rng.integers(0, params.n_interviewers, size=uniq_units.size)
        return assemble_sample(
            pop, rows_a, design=self.name,
            site=ven.venues["site"].to_numpy()[venue_idx],
            interviewer=unit_interviewer[unit_code],
            incl_prob=incl, weight=tls_weights(p_unit, p_int_a, freq),
            extra={
                "vdt_unit": unit_a,
                "venue_id": venue_idx,
                "venue_type": ven.venues["type"].to_numpy()[venue_idx],
                "visit_freq": freq,
            },
        )


DESIGN = TLSDesign()
