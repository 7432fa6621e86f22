"""Benchmark of issue 17: one whole replication, its stages, and the engine's throughput.

    python3 benchmarks/bench_replication.py [--size 20000] [--reps 24] [--stage-reps 15]
                                            [--workers 2] [--backends serial,loky,dask]
                                            [--rounds 1]

Prints, from ONE run (so every ratio compares numbers measured together):
  1. the per-replication time of each stage (median over ``--stage-reps`` replications
     of the paper design on one population, in this process, BLAS pinned to 1 thread):
     draw, suite (and its parts: tables, SNP, SNP variants, 2SPLS, probits), record
     (the record's arrays and the claims), the nonprobability-sample diagnostics
     (``[unit] nonprob``, on by default, so part of every engine replication), chunk write (a chunk of all those
     replications written as ``run`` writes it, divided by their number);
  2. the whole replication against one statsmodels ``OrderedModel(probit).fit(bfgs)``
     on one Table 7 item of the same sample (goal: at most 0.6), and the suite alone;
  3. serial, loky(W) and dask(W) throughput of ``paper_baseline`` (both designs) on a
     ``--size`` world: the replication tasks with their chunk writes (in the workers, as
     ``run`` does), after every worker has built the population (the steady state of a
     long run; the one-off population build is printed separately), and the ratios
     (goal: loky/serial >= 1.8, dask within 10% of loky); estimates must be identical;
  4. the machine's own ceiling: W concurrent pure-Python loops against one, and the
     workload ceiling: W processes each running the bare replication loop (no engine)
     at once against one (numeric work shares caches and memory bandwidth, which the
     pure-Python loops do not);
  5. the load average before and after, and the first-call time of the compiled SNP
     kernel (numba; ``cache=True`` keeps it on disk, so this is a cache load unless the
     package was just installed or changed). Timings above exclude it (warm-up).

Valid only on a quiet machine: check the printed load average (it should be well below
the number of cores); under load, compare ratios of the same run at most.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg()) + f" (cpus: {os.cpu_count()})"


def _median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def kernel_first_call() -> float:
    """Seconds of the first SNP kernel call in this process (numba cache load or compile)."""
    import numpy as np

    from sim_refugee.estimators.snp import _SNPLoglike

    x = np.zeros((4, 1))
    ll = _SNPLoglike(x, np.array([0, 1, 2, 1]), None, 3, 3, -0.5)
    t0 = time.perf_counter()
    ll.evaluate(np.array([0.0, 0.5, 0.01, 0.01, 0.01]))
    ll0 = _SNPLoglike(x, np.array([0, 1, 2, 1]), None, 3, 0, None)
    ll0.evaluate(np.array([0.0, -0.5, 0.5]))
    return time.perf_counter() - t0


def stages(pop, state, n: int, reps: int, seed: int) -> dict:
    """Median seconds per replication of each stage, and the last sample."""

    from sim_refugee.designs import get_design
    from sim_refugee.diagnosis.nonprob_sample import sample_diagnostics
    from sim_refugee.engine.storage import write_chunk
    from sim_refugee.engine.tasks import TaskSpec, chunk_dataset
    from sim_refugee.engine.unit_suite import UNIT, _put_nonprob
    from sim_refugee.seeds import rng_for
    from sim_refugee.suite import run_suite

    design = get_design("paper")
    dp = design.Params()
    params = UNIT.validate_params({})
    layout = UNIT.layout(None, params)
    out: dict[str, list[float]] = {}
    records, sample = [], None
    for rep in range(reps + 1):  # rep 0 is a warm-up
        t0 = time.perf_counter()
        sample = design.draw(pop, state, n, dp, rng_for(seed, "sample", 0, rep))
        t1 = time.perf_counter()
        res = run_suite(sample)
        t2 = time.perf_counter()
        rec = UNIT._record(res, layout)
        t3 = time.perf_counter()
        if params.nonprob:  # on by default: what UNIT.replicate adds after the record
            _put_nonprob(rec, layout, sample_diagnostics(sample, pop))
        t4 = time.perf_counter()
        if rep == 0:
            continue
        records.append(rec)
        for k, v in (("draw", t1 - t0), ("suite", t2 - t1), ("record+claims", t3 - t2),
                     ("nonprob diagnostics", t4 - t3)):
            out.setdefault(k, []).append(v)
        for k, v in res.timings.items():
            out.setdefault(f"  suite: {k}", []).append(float(v))
    spec = TaskSpec(kind="reps", unit="paper_suite", root_seed=seed, config_hash="bench",
                    cond_index=0, world_hash="", world={}, unit_params={}, pop_index=0,
                    design="paper", design_name="paper", n=n, rep_start=1, rep_stop=reps + 1)
    with tempfile.TemporaryDirectory() as tmp:
        write_chunk(Path(tmp) / "warm", spec, chunk_dataset(spec, layout, records))  # imports
        t0 = time.perf_counter()
        write_chunk(Path(tmp), spec, chunk_dataset(spec, layout, records))
        out["chunk write"] = [(time.perf_counter() - t0) / reps]
    med = {k: _median(v) for k, v in out.items()}
    med["whole replication"] = sum(med[k] for k in ("draw", "suite", "record+claims",
                                                     "nonprob diagnostics", "chunk write"))
    return {"median": med, "sample": sample}


def statsmodels_fit(sample, repeat: int = 3) -> dict[str, float]:
    """Median seconds of one OrderedModel(probit, bfgs) fit on each Table 7 item."""
    import warnings

    import pandas as pd
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    from sim_refugee.suite import T7_ITEMS, T7_REGRESSORS, regressor_frame

    X = regressor_frame(sample)
    times = {}
    for item in T7_ITEMS:
        d = X[[item, *T7_REGRESSORS]].dropna()
        y = pd.Series(pd.Categorical(d[item].astype(int), ordered=True))
        ts = []
        for _ in range(repeat):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t0 = time.perf_counter()
                OrderedModel(y, d[list(T7_REGRESSORS)].to_numpy(), distr="probit").fit(
                    method="bfgs", disp=False, maxiter=500)
                ts.append(time.perf_counter() - t0)
        times[item] = _median(ts)
    return times


def _warm_worker(cfg_text: str, reps: int) -> int:
    """In a worker: import the stack and build (cache) the population of the config."""
    import sim_refugee.claims  # noqa: F401
    from sim_refugee.engine.config import load_experiment
    from sim_refugee.engine.run import make_tasks
    from sim_refugee.engine.tasks import _population, limit_blas_threads
    from sim_refugee.engine.units import get_unit

    limit_blas_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "c.toml"
        p.write_text(cfg_text)
        exp = load_experiment(p)
    spec = next(s for s in make_tasks(exp, {0: (0, reps)}) if s.kind == "reps")
    unit = get_unit(spec.unit)
    _population(spec, unit, unit.validate_world(spec.world), unit.validate_params(spec.unit_params))
    kernel_first_call()
    time.sleep(1.0)  # keep this worker busy so the next warm-up task goes to another one
    return os.getpid()


def machine_ceiling(workers: int) -> tuple[float, float, float]:
    """(one loop alone, W concurrent loops, W * one / concurrent): the parallel ceiling."""
    from bench_engine import _spin  # the same pure-Python loop as the engine benchmark
    from joblib import Parallel, delayed

    Parallel(n_jobs=workers, backend="loky")(delayed(_spin)(10) for _ in range(workers))
    one = _median([_spin() for _ in range(3)])
    t0 = time.perf_counter()
    Parallel(n_jobs=workers, backend="loky")(delayed(_spin)() for _ in range(workers))
    many = time.perf_counter() - t0
    return one, many, workers * one / many


def _rep_loop(size: int, seed: int, reps: int, barrier, out) -> None:
    """In a fresh process: build the population, warm up, wait for the others, then time
    ``reps`` bare replications (draw, suite, record) of the paper design."""
    from sim_refugee.designs import get_design
    from sim_refugee.engine.unit_suite import UNIT
    from sim_refugee.estimators._threads import pin_threads
    from sim_refugee.seeds import rng_for, seed_sequence
    from sim_refugee.suite import run_suite
    from sim_refugee.world import WorldConfig, build_population

    pin_threads(1)
    pop = build_population(WorldConfig(size=size), seed_sequence(seed, "population", 0))
    design = get_design("paper")
    dp = design.Params()
    state = design.prepare(pop, dp, rng_for(seed, "prepare", 0, "paper"))
    layout = UNIT.layout(None, UNIT.validate_params({}))

    def one(rep: int) -> None:
        sample = design.draw(pop, state, 1346, dp, rng_for(seed, "sample", 0, rep))
        UNIT._record(run_suite(sample), layout)

    one(0)
    barrier.wait()
    t0 = time.perf_counter()
    for rep in range(1, reps + 1):
        one(rep)
    out.put(time.perf_counter() - t0)


def workload_ceiling(workers: int, size: int, seed: int, reps: int) -> tuple[float, float, float]:
    """(one process alone, the slowest of W at once, W * one / that): W processes each
    running the bare replication loop, no engine. Two numeric loops share caches, memory
    bandwidth and whatever the hypervisor gives, which two pure-Python loops do not
    exercise, so this is the ceiling the engine's loky/serial ratio is read against."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")

    def go(w: int) -> float:
        barrier, out = ctx.Barrier(w), ctx.Queue()
        procs = [ctx.Process(target=_rep_loop, args=(size, seed, reps, barrier, out))
                 for _ in range(w)]
        for p in procs:
            p.start()
        times = [out.get() for _ in procs]
        for p in procs:
            p.join()
        return max(times)

    one = go(1)
    many = go(workers)
    return one, many, workers * one / many


def throughput(args) -> None:
    """Serial, loky and dask on the replication tasks of paper_baseline (with chunk writes)."""
    from joblib import Parallel, delayed

    from sim_refugee.engine.backends import DaskBackend, LokyBackend, SerialBackend
    from sim_refugee.engine.config import load_experiment
    from sim_refugee.engine.run import make_tasks
    from sim_refugee.engine.storage import read_chunk, write_chunk
    from sim_refugee.engine.tasks import clear_caches

    text = (ROOT / "experiments" / "paper_baseline.toml").read_text()
    text = text.replace("size = 100000", f"size = {args.size}").replace(
        "replications = 40 ", f"replications = {args.reps} ")
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "paper_baseline.toml"
        cfg.write_text(text)
        exp = load_experiment(cfg)
    specs = [s for s in make_tasks(exp, {0: (0, args.reps)}) if s.kind == "reps"]
    n_reps = sum(s.n_reps for s in specs)
    print(f"\n3. throughput: paper_baseline (designs {', '.join(exp.designs)}), N = {args.size}, "
          f"{n_reps} replications in {len(specs)} chunks of <= {exp.file.experiment.chunk_size},"
          f" chunk writes included; populations built in every worker before the clock")
    rates: dict[str, list[float]] = {}
    results = {}
    for rnd in range(args.rounds):  # backends alternate, so a slow spell hits all of them
        if args.rounds > 1:
            print(f"  round {rnd + 1} of {args.rounds}:")
        for kind in args.backends.split(","):
            clear_caches()
            if kind == "serial":
                be = SerialBackend(1)
                _warm_worker(text, args.reps)
            elif kind == "loky":
                be = LokyBackend(args.workers, 1)
                Parallel(n_jobs=args.workers, backend="loky")(
                    delayed(_warm_worker)(text, args.reps) for _ in range(args.workers))
            else:
                be = DaskBackend(args.workers, threads=1)
                be.client.run(_warm_worker, text, args.reps)
            with tempfile.TemporaryDirectory() as out:
                t0 = time.perf_counter()
                for spec, ds in be.run(specs, out=out):  # as ``run`` does: workers write
                    if ds is not None:
                        write_chunk(Path(out), spec, ds)
                dt = time.perf_counter() - t0
                got = [(s.design, s.rep_start,
                        read_chunk(Path(out) / "chunks" / s.filename)["estimates"].values)
                       for s in specs]
            be.close()
            rates.setdefault(kind, []).append(n_reps / dt)
            results.setdefault(kind, []).append(sorted(got, key=lambda t: (t[0], t[1])))
            print(f"  {kind:>6}: {dt:7.2f} s  {n_reps / dt:6.2f} reps/s  "
                  f"({dt / n_reps * (args.workers if kind != 'serial' else 1):.3f} s per "
                  f"replication per core)", flush=True)
    import numpy as np

    base = next(iter(results))
    for kind, outs in results.items():
        same = all(a[:2] == b[:2] and np.array_equal(a[2], b[2], equal_nan=True)
                   for out in outs for a, b in zip(results[base][0], out, strict=True))
        print(f"  {kind:>6}: estimates bit-identical to {base} in every round: {same}")

    def ratio(num: str, den: str) -> str:
        r = [a / b for a, b in zip(rates[num], rates[den], strict=True)]
        if len(r) == 1:
            return f"{r[0]:.2f}"
        return f"{statistics.median(r):.2f} (median of {len(r)} rounds; {min(r):.2f}-{max(r):.2f})"

    if "serial" in rates:
        for kind in rates:
            if kind != "serial":
                goal = " (goal: >= 1.8x)" if kind == "loky" else ""
                print(f"  ratio {kind}/serial: {ratio(kind, 'serial')}x{goal}")
    if "loky" in rates and "dask" in rates:
        print(f"  ratio dask/loky: {ratio('dask', 'loky')} (goal: >= 0.90)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=20_000, help="world size")
    ap.add_argument("--reps", type=int, default=24, help="replications per design (engine)")
    ap.add_argument("--stage-reps", type=int, default=15)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=20080401)
    ap.add_argument("--backends", default="serial,loky,dask")
    ap.add_argument("--skip-engine", action="store_true")
    ap.add_argument("--rounds", type=int, default=1,
                    help="repeat the throughput comparison, backends alternating; ratios "
                    "are then medians over the rounds (this shared machine's speed drifts)")
    ap.add_argument("--ceiling-reps", type=int, default=30,
                    help="replications per process of the workload ceiling")
    args = ap.parse_args()

    print(f"load average at start: {_load()}")
    t_first = kernel_first_call()
    from sim_refugee.designs import get_design
    from sim_refugee.estimators._threads import pin_threads
    from sim_refugee.seeds import rng_for, seed_sequence
    from sim_refugee.world import WorldConfig, build_population

    pin_threads(1)
    t0 = time.perf_counter()
    pop = build_population(WorldConfig(size=args.size), seed_sequence(args.seed, "population", 0))
    t_pop = time.perf_counter() - t0
    design = get_design("paper")
    state = design.prepare(pop, design.Params(), rng_for(args.seed, "prepare", 0, "paper"))
    print(f"SNP kernel first call (numba cache load/compile, excluded below): {t_first:.2f} s; "
          f"population N = {args.size}: {t_pop:.2f} s (once per worker and run)")

    st = stages(pop, state, 1346, args.stage_reps, args.seed)
    med = st["median"]
    print(f"\n1. one replication, paper design, n = 1346, median of {args.stage_reps} "
          "(BLAS pinned to 1 thread):")
    for k, v in med.items():
        share = 100 * v / med["whole replication"]
        print(f"  {k:<22s} {1e3 * v:8.1f} ms  ({share:5.1f}%)")
    sm = statsmodels_fit(st["sample"])
    sm_med = _median(list(sm.values()))
    print("\n2. against statsmodels OrderedModel(probit).fit(method='bfgs') on one Table 7 "
          "item of the same sample (median over the 7 items: "
          + ", ".join(f"{k} {1e3 * v:.0f}" for k, v in sm.items()) + " ms)")
    print(f"  one statsmodels fit: {1e3 * sm_med:.1f} ms; whole replication / that fit = "
          f"{med['whole replication'] / sm_med:.2f} (goal: <= 0.60); suite alone / fit = "
          f"{med['suite'] / sm_med:.2f}")
    if not args.skip_engine:
        throughput(args)
    one, many, ratio = machine_ceiling(args.workers)
    print(f"\n4. machine ceiling: one pure-Python loop {one:.2f} s; {args.workers} at once "
          f"{many:.2f} s; throughput ratio {ratio:.2f}x (no backend can exceed it)")
    if not args.skip_engine:
        one, many, ratio = workload_ceiling(args.workers, args.size, args.seed, args.ceiling_reps)
        print(f"   workload ceiling: {args.ceiling_reps} bare replications (draw, suite, record)"
              f" in one process {one:.2f} s; in each of {args.workers} at once {many:.2f} s; "
              f"throughput ratio {ratio:.2f}x (the engine's loky/serial is read against it)")
    print(f"\nload average at end: {_load()}")


if __name__ == "__main__":
    main()
