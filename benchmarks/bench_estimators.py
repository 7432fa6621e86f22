"""Benchmark the estimators (run by hand: ``python3 benchmarks/bench_estimators.py``).

Prints, from one run on the same simulated data (n = 1,346, 12 regressors, 4 outcome
categories, as Table 7 of the paper):
  * the median time of one SNP K=3 fit and of statsmodels' plain ordered probit
    (``OrderedModel(distr="probit").fit(method="bfgs")``) and their ratio;
  * the time of the whole set of estimators one simulated sample needs: 7 SNP fits,
    2SPLS, 8 probits and the descriptive tables (and the suite's full set with the
    14 footnote-variant SNP fits).
Timings are wall-clock medians over ``--repeat`` runs; the machine load matters, so
compare ratios from the same run, not absolute numbers across runs. The ratio uses
statsmodels on one BLAS thread, as our fits run (its default-threads time is also shown).
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np
import pandas as pd

from sim_refugee.estimators import (
    Probit,
    SNPOrderedProbit,
    TwoStageProbitLS,
    crosstab_by_gender,
    gender_chi2,
)
from sim_refugee.seeds import rng_for

ITEMS = ["anxious", "fear", "fearfamily", "anger", "concentrate", "attain", "hope"]
REGRESSORS = [
    "female", "age_decades", "secondary", "postsecondary", "farmer", "trader", "student",
    "other_job", "death", "foodaid", "arrest", "camp",
]


def make_sample(seed: int = 2026, n: int = 1346) -> pd.DataFrame:
    """A synthetic sample with the paper's column names (not calibrated: timing only)."""
    rng = rng_for(seed, "bench_estimators")
    df = pd.DataFrame({
        "female": (rng.random(n) < 0.6).astype(float),
        "age_decades": rng.normal(3.6, 1.1, n),
        "secondary": (rng.random(n) < 0.6).astype(float),
        "farmer": (rng.random(n) < 0.15).astype(float),
        "trader": (rng.random(n) < 0.1).astype(float),
        "student": (rng.random(n) < 0.05).astype(float),
        "other_job": (rng.random(n) < 0.2).astype(float),
        "death": (rng.random(n) < 0.3).astype(float),
        "foodaid": (rng.random(n) < 0.4).astype(float),
        "family_missing": (rng.random(n) < 0.3).astype(float),
        "arrest": (rng.random(n) < 0.3).astype(float),
        "camp": (rng.random(n) < 0.1).astype(float),
        "northeast": (rng.random(n) < 0.8).astype(float),
        "years_in_china": rng.gamma(2.0, 1.5, n),
    })
    df["postsecondary"] = ((rng.random(n) < 0.15) & (df["secondary"] == 0)).astype(float)
    beta = rng.normal(0, 0.25, len(REGRESSORS))
    xb = df[REGRESSORS].to_numpy() @ beta
    for k, item in enumerate(ITEMS):
        e = rng.normal(size=n) if k % 2 else rng.chisquare(3, n) / np.sqrt(6) - np.sqrt(1.5)
        df[item] = np.digitize(xb + e, [-0.8, 0.0, 0.8]) + 1.0
    df["avgpsych"] = df[ITEMS].mean(axis=1)
    latent = -0.3 * df["avgpsych"] + 0.4 * df["female"] + 0.5 * df["family_missing"] + rng.normal(size=n)
    df["job"] = (latent > -0.5).astype(float)
    df["prefer_us"] = (rng.random(n) < 0.3).astype(float)
    df["prefer_sk"] = ((rng.random(n) < 0.6) & (df["prefer_us"] == 0)).astype(float)
    df["const"] = 1.0
    return df


CPU_TIMES: dict[str, float] = {}


def median_time(fn, repeat: int, label: str = "") -> float:
    """Median wall-clock time; the median CPU time (robust to machine load) goes to CPU_TIMES."""
    times, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    if label:
        CPU_TIMES[label] = float(np.median(cpu))
    return float(np.median(times))


def per_sample_set(df: pd.DataFrame, variants: bool) -> None:
    """The estimators one sample needs (structure of the paper's analysis; specs approximate)."""
    for item in ITEMS:
        r0 = SNPOrderedProbit(df[item], df[REGRESSORS], order=0).fit()
        SNPOrderedProbit(df[item], df[REGRESSORS], order=3).fit(oprobit=r0)
        if variants:
            for extra in ("northeast", "years_in_china"):
                SNPOrderedProbit(df[item], df[[*REGRESSORS, extra]], order=3).fit()
    TwoStageProbitLS(
        df["avgpsych"], df["job"],
        df[["female", "age_decades", "secondary", "postsecondary", "death", "foodaid"]],
        df[["female", "age_decades", "secondary", "postsecondary", "family_missing"]],
    ).fit()
    specs = [
        ["female", "age_decades"],
        ["female", "age_decades", "secondary", "postsecondary"],
        ["female", "age_decades", "secondary", "postsecondary", "northeast"],
        ["female", "age_decades", "secondary", "postsecondary", "northeast", "avgpsych"],
    ]
    for outcome in ("prefer_us", "prefer_sk"):
        for spec in specs:
            Probit(df[outcome], df[[*spec, "const"]]).fit()
    for item in [*ITEMS, "death", "foodaid", "arrest", "camp", "job", "secondary", "farmer", "trader"]:
        crosstab_by_gender(df, item)
        gender_chi2(df, item)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="timing repeats (median reported)")
    parser.add_argument("--sm-repeat", type=int, default=3, help="repeats for the slow statsmodels fit")
    args = parser.parse_args()

    from statsmodels.miscmodels.ordinal_model import OrderedModel

    df = make_sample()
    y, x = df["fear"], df[REGRESSORS]
    SNPOrderedProbit(y, x, order=3).fit()  # warm-up (imports, caches)
    res = SNPOrderedProbit(y, x, order=3).fit()
    t_snp = median_time(lambda: SNPOrderedProbit(y, x, order=3).fit(), args.repeat, "snp3")
    t_op = median_time(lambda: SNPOrderedProbit(y, x, order=0).fit(), args.repeat, "op")

    def sm_fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return OrderedModel(y, x, distr="probit").fit(method="bfgs", disp=False)

    from threadpoolctl import threadpool_limits

    sm_res = sm_fit()
    t_sm_default = median_time(sm_fit, args.sm_repeat)
    with threadpool_limits(1, user_api="blas"):  # the same BLAS setting our fits use
        t_sm = median_time(sm_fit, args.sm_repeat, "sm")
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"data: n={len(df)}, {x.shape[1]} regressors, {y.nunique()} categories")
    print(f"SNP K=3 fit (ours):                 {1e3 * t_snp:8.1f} ms  (status {res.status}, {res.n_iter} Newton its)")
    print(f"ordered probit K=0 (ours):          {1e3 * t_op:8.1f} ms")
    print(f"statsmodels OrderedModel probit bfgs:{1e3 * t_sm:8.1f} ms  (llf {sm_res.llf:.4f}; ours K=0 "
          f"{SNPOrderedProbit(y, x, order=0).fit().llf:.4f})")
    print(f"  (statsmodels with default BLAS threads: {1e3 * t_sm_default:.1f} ms)")
    print(f"ratio statsmodels / SNP K=3:        {t_sm / t_snp:8.1f} x")
    print(f"ratio statsmodels / our K=0:        {t_sm / t_op:8.1f} x")
    rep = max(3, args.repeat // 3)
    t_set = median_time(lambda: per_sample_set(df, variants=False), rep, "set")
    t_full = median_time(lambda: per_sample_set(df, variants=True), rep, "full")
    print(f"per-sample set (7 SNP K=3 + their K=0 starts, 2SPLS, 8 probits, 15 tables+tests): {1e3 * t_set:7.1f} ms")
    print(f"  + 14 footnote-variant SNP K=3 fits (suite's full set):                         {1e3 * t_full:7.1f} ms")
    c = CPU_TIMES
    print(f"CPU time (process_time medians, ms): SNP K=3 {1e3 * c['snp3']:.1f}, ordered probit {1e3 * c['op']:.1f}, "
          f"statsmodels {1e3 * c['sm']:.1f} (ratio {c['sm'] / c['snp3']:.1f} x); per-sample set {1e3 * c['set']:.0f}, "
          f"full set {1e3 * c['full']:.0f}")


if __name__ == "__main__":
    main()
