"""A small synthetic sample with the VARIABLES.md columns, independent of the world, so
the suite's plumbing is tested on its own. Its numbers are arbitrary test inputs (a
simple latent-index model with the paper's signs), not a calibrated world."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim_refugee.seeds import rng_for

ITEMS = ("anxious", "fear", "fearfamily", "anger", "concentrate", "attain", "hope")


def synthetic_sample(n: int = 1346, seed: int = 1, missing: float = 0.03) -> pd.DataFrame:
    rng = rng_for(seed, "test-synthetic-sample")
    female = rng.binomial(1, 0.52, n)
    age = np.clip(rng.normal(38, 10, n), 18, 75).round()
    educ = rng.choice(["elementary", "secondary", "postsecondary"], n, p=[0.44, 0.53, 0.03])
    occupation = rng.choice(["worker", "farmer", "trader", "student", "other"], n,
                            p=[0.54, 0.34, 0.03, 0.04, 0.05])
    province = rng.choice(["North Hamgyong", "South Hamgyong", "Ryanggang", "Pyongyang",
                           "other"], n, p=[0.57, 0.19, 0.06, 0.04, 0.14])
    northeast = np.isin(province, ["North Hamgyong", "South Hamgyong", "Ryanggang"]).astype(int)
    pyongyang = (province == "Pyongyang").astype(int)
    foodaid = rng.binomial(1, 0.57, n)
    camp = rng.binomial(1, np.where(female == 1, 0.06, 0.13))
    arrest = rng.binomial(1, 0.27, n)
    trafficking = rng.binomial(1, 0.53, n)
    death = rng.binomial(1, np.where(female == 1, 0.37, 0.23))
    family_missing = rng.binomial(1, 0.23, n)
    years = rng.gamma(2.0, 1.2 + 0.6 * female)
    spell = pd.cut(years, [-np.inf, 0.5, 1, 2, 3, np.inf],
                   labels=["<6m", "6-12m", "1-2y", "2-3y", ">3y"]).astype(str)
    children = rng.binomial(1, 0.4, n)
    # skewed (chi-square) common distress factor, so the SNP estimator has shape to find
    distress = (0.6 * foodaid + 0.4 * camp + 0.2 * arrest + 0.3 * trafficking + 0.5 * death
                + 0.15 * female + 0.03 * (age - 38) - 0.2 * (educ == "elementary")
                + (rng.chisquare(3, n) - 3) / np.sqrt(6))
    frame = {"person_id": np.arange(n), "female": female, "age": age, "educ": educ,
             "occupation": occupation, "province": province, "northeast": northeast,
             "pyongyang": pyongyang, "urban_origin": rng.binomial(1, 0.4, n),
             "death": death, "foodaid": foodaid, "family_missing": family_missing,
             "arrest": arrest, "camp": camp, "trafficking": trafficking,
             "years_in_china": years, "china_spell": spell,
             "urban_china": rng.binomial(1, 0.6, n), "children": children}
    for item in ITEMS:
        latent = distress + 0.8 * rng.normal(size=n)
        frame[item] = np.digitize(latent, [-0.5, 0.5, 1.5]) + 1.0
    items = pd.DataFrame({i: frame[i] for i in ITEMS})
    for item in ITEMS:  # item nonresponse
        items.loc[rng.random(n) < missing, item] = np.nan
        frame[item] = items[item].to_numpy()
    avg = items.mean(axis=1).to_numpy()
    frame["avgpsych"] = avg
    job_latent = -0.8 * (avg - 2.5) + 0.4 * children - 0.15 * years + 0.3 * trafficking - 0.6
    frame["job"] = (job_latent + rng.normal(size=n) > 0).astype(float)
    us = -1.2 + 0.5 * (educ != "elementary") - 0.3 * (age - 38) / 10 - 0.4 * northeast
    u_us = us + rng.gumbel(size=n)
    u_sk = 0.6 + rng.gumbel(size=n)
    u_cn = rng.gumbel(size=n) - 0.6
    choice = np.argmax(np.column_stack([u_sk, u_us, u_cn]), axis=1)
    dest = np.array(["south_korea", "united_states", "china"])[choice]
    dest[rng.random(n) < 0.03] = "north_korea"
    dest[rng.random(n) < 0.01] = "other"
    frame["dest"] = dest
    frame["prefer_us"] = (dest == "united_states").astype(int)
    frame["prefer_sk"] = (dest == "south_korea").astype(int)
    frame["interviewer"] = rng.integers(0, 48, n)
    frame["weight"] = rng.uniform(0.5, 2.0, n)
    return pd.DataFrame(frame)


@pytest.fixture(scope="session")
def sample() -> pd.DataFrame:
    return synthetic_sample()
