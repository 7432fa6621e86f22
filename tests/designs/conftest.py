"""A small synthetic population with the Contract-1 columns the designs use.

It is NOT the project's world generator (sim_refugee.world); it only exercises the
designs' mechanics with known truths. Likert items follow an ordered probit on a
latent distress factor so that artefacts have realistic inputs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

SITES = ["Shenyang", "Changchun", "Harbin", "Yanji", "Tumen"]
PROVINCES = ["North Hamgyong", "South Hamgyong", "Ryanggang", "Pyongyang", "other"]
ITEMS = ["anxious", "fear", "fearfamily", "anger", "concentrate", "attain", "hope"]


def make_population(size: int, seed: int) -> pd.DataFrame:
    """Synthetic population of ``size`` persons (seeded, reproducible)."""
    rng = np.random.default_rng(seed)
    female = rng.binomial(1, 0.55, size)
    province = rng.choice(PROVINCES, size=size, p=[0.4, 0.2, 0.15, 0.05, 0.2])
    age = np.clip(rng.normal(38, 11, size), 16, 80)
    home_site = np.where(
        rng.random(size) < 0.75, rng.choice(SITES, size=size), "none"
    ).astype(object)
    urban_china = (rng.random(size) < np.where(home_site == "none", 0.1, 0.6)).astype(int)
    distress = rng.normal(size=size)
    death = (rng.random(size) < 0.2 + 0.2 * (province == "North Hamgyong")).astype(int)
    pop = pd.DataFrame(
        {
            "person_id": np.arange(size, dtype=np.int64),
            "female": female,
            "age": age,
            "province": province,
            "northeast": np.isin(province, PROVINCES[:3]).astype(int),
            "home_site": home_site,
            "urban_china": urban_china,
            "korean_chinese_host": rng.binomial(1, 0.4, size),
            "church_tie": rng.binomial(1, 0.25, size),
            "job": rng.binomial(1, 0.5, size),
            "distress": distress,
            "death": death,
        }
    )
    cuts = np.array([-1.0, 0.0, 1.0])
    for item in ITEMS:
        latent = 0.8 * distress + rng.normal(scale=0.6, size=size)
        pop[item] = np.searchsorted(cuts, latent) + 1
    pop["avgpsych"] = pop[ITEMS].mean(axis=1)
    return pop


@pytest.fixture(scope="session")
def small_pop() -> pd.DataFrame:
    return make_population(20_000, seed=11)
