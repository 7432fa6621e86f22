"""Venues for time-location sampling: who goes where, and how often.

Each survey site gets venues of a few types (markets, churches, workplaces). A person
living in a site's catchment attends each venue type with a probability given by a
logit in their characteristics (urban residence, Korean-Chinese host, church tie,
job), picks one venue of that type in their site (venue popularity varies), and
attends it in any one day-time slot with a person-specific rate (heterogeneous
frequency). Every coefficient is a named assumption in ``VenueParams``: the paper
documents no venue data. Persons outside every catchment (home_site "none") attend
nothing, unless ``attend_all`` is set (the setting in which TLS theory holds: every
person has a positive chance of being at some venue).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pydantic import Field
from scipy.special import expit

from sim_refugee.errors import UserInputError, require_columns
from sim_refugee.validation import MAX_COUNT, FrozenModel, numeric_column

#: Largest number of venues of one type in one site (a person picks one by a
#: person x venue comparison, so memory grows with it).
MAX_VENUES_PER_SITE = 100


class VenueType(FrozenModel):
    """One venue type: how many per site, who attends, how often.

    per_site: venues of this type in each site.
    intercept, coefs: logit of attending this type at all (coefs keyed by population
        column; missing = 0).
    slot_rate: mean probability of being at one's venue in a given day-time slot.
    rate_shape: gamma shape of the person-level rate multiplier (mean 1; smaller =
        more heterogeneous visit frequency).
    """

    per_site: int = Field(ge=1, le=MAX_VENUES_PER_SITE)
    intercept: float
    coefs: dict[str, float] = Field(default_factory=dict)
    slot_rate: float = Field(gt=0.0, le=1.0)
    rate_shape: float = Field(2.0, gt=0.0)


DEFAULT_TYPES: dict[str, VenueType] = {
    "market": VenueType(
        per_site=4, intercept=-0.5, coefs={"urban_china": 1.5, "korean_chinese_host": 0.5},
        slot_rate=0.15,
    ),
    "church": VenueType(per_site=3, intercept=-2.5, coefs={"church_tie": 3.5}, slot_rate=0.10),
    "workplace": VenueType(per_site=6, intercept=-1.5, coefs={"job": 2.5}, slot_rate=0.35),
}


class VenueParams(FrozenModel):
    """types: the venue types; days, slots_per_day: the sampling frame's period
    (venue-day-time units = venues x days x slots); popularity_concentration: Dirichlet
    concentration of venue popularity within a site and type (small = a few big venues);
    attend_all: give every person without a venue a market (a random site's if they
    live outside every catchment), so nobody is a non-attender."""

    types: dict[str, VenueType] = Field(default_factory=lambda: dict(DEFAULT_TYPES))
    days: int = Field(14, ge=1, le=MAX_COUNT)
    slots_per_day: int = Field(3, ge=1, le=MAX_COUNT)
    popularity_concentration: float = Field(2.0, gt=0.0)
    attend_all: bool = False


@dataclass(frozen=True)
class Venues:
    """The venue frame and the person-venue attendance links (sorted by venue).

    venues: DataFrame (venue_id, site, type). link_person / link_venue / link_rate: one
    entry per (person, venue) tie with the per-slot attendance probability;
    venue_start: offsets so that venue v's links are [venue_start[v], venue_start[v+1]).
    slots: day-time slots per venue in the frame. visit_frequency: per person, the
    expected number of venue-day-time units attended in the frame (0 = non-attender).
    """

    venues: pd.DataFrame
    link_person: np.ndarray
    link_venue: np.ndarray
    link_rate: np.ndarray
    venue_start: np.ndarray
    slots: int
    visit_frequency: np.ndarray

    @property
    def n_units(self) -> int:
        """Venue-day-time units in the frame."""
        return len(self.venues) * self.slots

    def expected_attendance(self) -> np.ndarray:
        """Expected attendees per venue in one slot."""
        return np.bincount(self.link_venue, weights=self.link_rate, minlength=len(self.venues))


def build_venues(pop: pd.DataFrame, params: VenueParams, rng: np.random.Generator) -> Venues:
    """Venues and attendance for population ``pop`` (pure function of its inputs)."""
    require_columns(pop, ["home_site"], "population (venues)")
    sites = sorted(s for s in pd.unique(pop["home_site"].astype(str)) if s != "none")
    if not sites:
        raise UserInputError("population has no site catchments (home_site all 'none')",
                             key="home_site")
    site_of = pop["home_site"].astype(str).to_numpy()
    site_idx = pd.Index(sites).get_indexer(site_of)  # -1 = outside every catchment
    n = len(pop)
    venue_rows, persons, vids, rates = [], [], [], []
    next_id = 0
    for tname, vt in params.types.items():
        cols = [c for c, b in vt.coefs.items() if b != 0]
        require_columns(pop, cols, f"population (venue type {tname!r} coefs)")
        eta = np.full(n, vt.intercept)
        for c in cols:
            eta += vt.coefs[c] * numeric_column(pop, c, f"population (venue type {tname!r} coefs)")
        attends = (rng.random(n) < expit(eta)) & (site_idx >= 0)
        # venue ids for this type: site s has ids next_id + s*per_site + j
        pop_share = rng.dirichlet(np.full(vt.per_site, params.popularity_concentration),
                                  size=len(sites))
        who = np.flatnonzero(attends)
        cum = np.cumsum(pop_share, axis=1)[site_idx[who]]
        j = (rng.random(who.size)[:, None] > cum).sum(axis=1)
        j = np.minimum(j, vt.per_site - 1)
        persons.append(who)
        vids.append(next_id + site_idx[who] * vt.per_site + j)
        mult = rng.gamma(vt.rate_shape, 1.0 / vt.rate_shape, size=who.size)
        rates.append(np.clip(vt.slot_rate * mult, 1e-6, 1.0))
        for s, site in enumerate(sites):
            for k in range(vt.per_site):
                venue_rows.append((next_id + s * vt.per_site + k, site, tname))
        next_id += len(sites) * vt.per_site
    venues = pd.DataFrame(venue_rows, columns=["venue_id", "site", "type"])
    person = np.concatenate(persons)
    venue = np.concatenate(vids)
    rate = np.concatenate(rates)
    if params.attend_all:
        covered = np.zeros(n, dtype=bool)
        covered[person] = True
        lonely = np.flatnonzero(~covered)
        if lonely.size:
            tname = "market" if "market" in params.types else next(iter(params.types))
            vt = params.types[tname]
            first = venues.index[venues["type"] == tname][0]
            s = np.where(site_idx[lonely] >= 0, site_idx[lonely],
                         rng.integers(0, len(sites), lonely.size))
            v = first + s * vt.per_site + rng.integers(0, vt.per_site, lonely.size)
            mult = rng.gamma(vt.rate_shape, 1.0 / vt.rate_shape, size=lonely.size)
            person = np.concatenate([person, lonely])
            venue = np.concatenate([venue, v])
            rate = np.concatenate([rate, np.clip(vt.slot_rate * mult, 1e-6, 1.0)])
    order = np.argsort(venue, kind="stable")
    person, venue, rate = person[order], venue[order], rate[order]
    start = np.searchsorted(venue, np.arange(len(venues) + 1))
    slots = params.days * params.slots_per_day
    freq = np.bincount(person, weights=rate, minlength=n) * slots
    return Venues(venues, person, venue, rate, start, slots, freq)
