"""Benchmark: time and peak memory of build_population at several sizes.

Run by hand: ``python benchmarks/bench_population.py [--sizes 100000 400000]``.
Prints, per size, wall time of the full build (sample calibration, the default), of the
same build with calibration="none" (the structural model alone), and of drawing the
raw noise (the baseline: the least any generator of these draws can cost), their ratios,
the CPU time of the full build (a fairer figure on a shared machine),
and the peak traced memory (numpy allocations) and the final frame's memory.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

from sim_refugee.seeds import seed_sequence
from sim_refugee.world import WorldConfig, build_population
from sim_refugee.world.model import draw_noise


def _timed(fn):
    tracemalloc.start()
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return out, dt, peak, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[20_000, 100_000, 400_000])
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print(f"{'size':>8} {'noise s':>8} {'model s':>8} {'full s':>8} {'full/noise':>10} "
          f"{'full/model':>10} {'full cpu s':>10} {'peak MB':>8} {'frame MB':>9}")
    for n in args.sizes:
        ss = seed_sequence(args.seed, "population", 0)
        _, t_noise, _, _ = _timed(lambda n=n, ss=ss: draw_noise(n, ss))
        _, t_model, _, _ = _timed(
            lambda n=n, ss=ss: build_population(WorldConfig(size=n, calibration="none"), ss))
        pop, t_full, peak, cpu = _timed(lambda n=n, ss=ss: build_population(WorldConfig(size=n), ss))
        frame = pop.memory_usage(deep=True).sum() / 2**20
        print(f"{n:>8} {t_noise:>8.2f} {t_model:>8.2f} {t_full:>8.2f} {t_full / t_noise:>10.1f} "
              f"{t_full / t_model:>10.1f} {cpu:>10.2f} {peak:>8.0f} {frame:>9.0f}")


if __name__ == "__main__":
    main()
