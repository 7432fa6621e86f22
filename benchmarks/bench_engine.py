"""Replications per second of the full paper suite: serial vs loky vs Dask LocalCluster.

    python benchmarks/bench_engine.py [--reps 12] [--workers 2] [--size 5000] [--n 1346]

All three backends run the same replication tasks (paper design, the whole suite and
the claims on each sample) in one process run, and the ratios against serial (and
Dask against loky) are printed. Worker pools are started and warmed before the clock
starts (a LocalCluster's start-up and loky's first spawn are one-off costs of a run);
building the population in each worker is inside the clock (it is a real per-run cost).
The census fit (estimand) is not timed: it is one task per population, not per
replication. Goal (issue 5): 2 workers >= 1.8x serial, Dask within 10% of loky.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

CONFIG = """
[experiment]
name = "bench"
unit = "paper_suite"
root_seed = 1
replications = {reps}
chunk_size = {chunk}
[world]
size = {size}
[[designs]]
name = "{design}"
[sample]
n = {n}
"""


def _warm() -> int:
    """Import the whole stack in a worker (one-off cost, kept off the clock)."""
    import sim_refugee.claims  # noqa: F401
    import sim_refugee.designs.paper  # noqa: F401
    import sim_refugee.engine.unit_suite  # noqa: F401
    import sim_refugee.suite  # noqa: F401
    import sim_refugee.world  # noqa: F401

    return 0


def _spin(n: int = 6_000_000) -> float:
    """A pure-Python CPU-bound loop (no BLAS, no I/O): the machine's own parallel ceiling."""
    t0 = time.perf_counter()
    s = 0
    for i in range(n):
        s += i
    return time.perf_counter() - t0


def machine_ceiling(workers: int) -> float:
    """Throughput of ``workers`` concurrent processes over one, for a trivially parallel
    CPU-bound job. On a machine whose cores are really independent this is ~workers; it
    bounds what any backend can reach, so the engine's ratios are read against it."""
    from joblib import Parallel, delayed

    Parallel(n_jobs=workers, backend="loky")(delayed(_spin)(10) for _ in range(workers))
    t0 = time.perf_counter()
    _spin()
    one = time.perf_counter() - t0
    t0 = time.perf_counter()
    Parallel(n_jobs=workers, backend="loky")(delayed(_spin)() for _ in range(workers))
    many = time.perf_counter() - t0
    return workers * one / many


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=12)
    ap.add_argument("--chunk", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--size", type=int, default=5000)
    ap.add_argument("--n", type=int, default=1346)
    ap.add_argument("--design", default="paper")
    ap.add_argument("--backends", default="serial,loky,dask")
    args = ap.parse_args()

    from joblib import Parallel, delayed

    from sim_refugee.engine.backends import DaskBackend, LokyBackend, SerialBackend
    from sim_refugee.engine.config import load_experiment
    from sim_refugee.engine.run import make_tasks
    from sim_refugee.engine.tasks import clear_caches

    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "bench.toml"
        cfg.write_text(CONFIG.format(reps=args.reps, chunk=args.chunk, size=args.size,
                                     n=args.n, design=args.design))
        exp = load_experiment(cfg)
    specs = [s for s in make_tasks(exp, {0: (0, args.reps)}) if s.kind == "reps"]
    print(f"paper suite, design {args.design}, N = {args.size}, n = {args.n}, "
          f"{args.reps} replications in {len(specs)} tasks, {args.workers} workers")

    rates: dict[str, float] = {}
    results: dict[str, list] = {}
    for kind in args.backends.split(","):
        clear_caches()
        if kind == "serial":
            be = SerialBackend()
            _warm()
        elif kind == "loky":
            be = LokyBackend(args.workers)
            Parallel(n_jobs=args.workers, backend="loky")(delayed(_warm)() for _ in range(4))
        else:
            be = DaskBackend(args.workers)
            be.client.run(_warm)
        t0 = time.perf_counter()
        out = sorted(((s.rep_start, ds) for s, ds in be.run(specs)), key=lambda x: x[0])
        dt = time.perf_counter() - t0
        be.close()
        rates[kind] = args.reps / dt
        results[kind] = out
        stage = {st: float(sum(ds["timings"].sel(stage=st).sum() for _, ds in out))
                 for st in ("world", "prepare", "sample", "fit")}
        busy = " ".join(f"{k} {v:.1f}" for k, v in stage.items())
        print(f"{kind:>7}: {dt:8.1f} s  {rates[kind]:7.3f} reps/s  (summed stage seconds in "
              f"workers: {busy})", flush=True)

    base = next(iter(results.values()))
    for kind, out in results.items():
        same = all(a[1]["estimates"].equals(b[1]["estimates"]) for a, b in zip(base, out,
                                                                               strict=True))
        print(f"{kind:>7}: estimates identical to {next(iter(results))}: {same}")
    if "serial" in rates:
        for kind in rates:
            if kind != "serial":
                print(f"ratio {kind}/serial: {rates[kind] / rates['serial']:.2f}x")
    if "loky" in rates and "dask" in rates:
        print(f"ratio dask/loky: {rates['dask'] / rates['loky']:.2f}")
    ceiling = machine_ceiling(args.workers)
    print(f"machine ceiling ({args.workers} concurrent pure-Python loops / 1): {ceiling:.2f}x "
          "-- no backend can exceed it on this machine")
    import os

    print(f"load average at the end: {os.getloadavg()}; cpus: {os.cpu_count()}")


if __name__ == "__main__":
    main()
