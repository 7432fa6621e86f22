"""Benchmark: the whole suite on one paper-design sample (n = 1,346) of the default world.

Run by hand:  python3 benchmarks/bench_suite.py [--reps 7] [--census]

Prints, after one warm-up run, the median wall time of ``run_suite`` and its breakdown
by model family (descriptive tables, the 7 Table 7 SNP fits, the 14 footnote variants,
the 2SPLS, the 8 probits), and ratios against baselines timed in the same run:
  - the suite with BLAS left multithreaded (``blas_threads=None``),
  - the suite without the footnote variants,
  - statsmodels' plain ordered probit (OrderedModel, probit link) on the same 7 items:
    what the 7 Table 7 fits would cost with the reference library at order 0.
With --census it also times the census fit of the 100,000-person population (collapsed
and, as the baseline, uncollapsed; the latter takes minutes).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd


def _median_runs(fn, reps: int) -> tuple[float, list]:
    """Median wall time of ``reps`` calls (and the outputs); the median CPU time of the
    process is kept in ``_median_runs.cpu`` (less sensitive to a loaded machine)."""
    times, cpu, outs = [], [], []
    for _ in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        outs.append(fn())
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    _median_runs.cpu = statistics.median(cpu)
    return statistics.median(times), outs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--census", action="store_true")
    args = ap.parse_args()

    from statsmodels.miscmodels.ordinal_model import OrderedModel
    from threadpoolctl import threadpool_limits

    from sim_refugee.designs import get_design
    from sim_refugee.seeds import rng_for, seed_sequence
    from sim_refugee.suite import T7_ITEMS, T7_REGRESSORS, census_fit, regressor_frame, run_suite
    from sim_refugee.world import WorldConfig, build_population

    pop = build_population(WorldConfig(), seed_sequence(args.seed, "population", 0))
    design = get_design("paper")
    params = design.Params()
    state = design.prepare(pop, params, rng_for(args.seed, "prepare", 0, "paper"))
    sample = design.draw(pop, state, 1346, params, rng_for(args.seed, "sample", 0, 0))
    run_suite(sample)  # warm-up (imports, caches)

    t_suite, outs = _median_runs(lambda: run_suite(sample), args.reps)
    cpu_suite = _median_runs.cpu
    breakdown = pd.concat([o.timings for o in outs], axis=1).median(axis=1)
    t_threads, _ = _median_runs(lambda: run_suite(sample, blas_threads=None), args.reps)
    t_novar, _ = _median_runs(lambda: run_suite(sample, include_variants=False), args.reps)
    cpu_novar = _median_runs.cpu

    X = regressor_frame(sample)

    def statsmodels_t7():
        with threadpool_limits(1, user_api="blas"):
            for item in T7_ITEMS:
                d = X[[item, *T7_REGRESSORS]].dropna()
                y = pd.Series(pd.Categorical(d[item].astype(int), ordered=True))
                OrderedModel(y, d[list(T7_REGRESSORS)].to_numpy(), distr="probit").fit(
                    method="bfgs", disp=False, maxiter=500)

    statsmodels_t7()
    t_sm, _ = _median_runs(statsmodels_t7, args.reps)

    print(f"run_suite, n = {len(sample)}, median of {args.reps} after warm-up: {t_suite:.3f} s "
          f"wall, {cpu_suite:.3f} s CPU")
    for stage, sec in breakdown.items():
        print(f"  {stage:<13s} {sec:7.3f} s  ({100 * sec / breakdown.sum():4.1f}%)")
    print("baselines (same run):")
    print(f"  BLAS multithreaded (blas_threads=None): {t_threads:.3f} s  "
          f"ratio {t_threads / t_suite:.2f}")
    print(f"  without footnote variants:              {t_novar:.3f} s  "
          f"ratio {t_novar / t_suite:.2f} (CPU {cpu_novar:.3f} s)")
    print(f"  statsmodels OrderedModel, 7 items (order 0): {t_sm:.3f} s; "
          f"our 7 SNP fits (order 3) / statsmodels = {breakdown['snp'] / t_sm:.2f}")
    if args.census:
        t0 = time.perf_counter()
        c = census_fit(pop)
        t_c = time.perf_counter() - t0
        print(f"census_fit, N = {len(pop)} (collapsed): {t_c:.1f} s; "
              f"by stage {c.timings.round(1).to_dict()}")
        t0 = time.perf_counter()
        run_suite(pop)
        t_u = time.perf_counter() - t0
        print(f"  uncollapsed baseline: {t_u:.1f} s  ratio {t_u / t_c:.2f}")
    print(f"(load average at end: {np.round(__import__('os').getloadavg(), 2).tolist()})")


if __name__ == "__main__":
    main()
