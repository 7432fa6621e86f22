"""``sim-refugee calibrate-tables``: rerun the documented table calibration."""

from __future__ import annotations

import argparse
import sys
import time

#: the documented procedure's settings (what produced the shipped solution)
DEFAULTS: dict[str, int] = {
    "seed": 2008, "size": 200_000, "m": 60_000, "plim_iter": 12, "sample_iter": 3,
    "sample_reps": 80, "correction_iter": 6, "check_size": 100_000, "check_seed": 0,
    "check_reps": 40,
}


def _calibrate_tables(args: argparse.Namespace) -> int:
    from sim_refugee.calibration.report import table_check
    from sim_refugee.calibration.solution import solution_document, write_solution
    from sim_refugee.calibration.solve import solve_tables
    from sim_refugee.errors import UserInputError
    from sim_refugee.seeds import seed_sequence
    from sim_refugee.validation import check_int, check_output
    from sim_refugee.world import WorldConfig, build_population

    for key in DEFAULTS:
        check_int(getattr(args, key), f"--{key.replace('_', '-')}", lo=0)
    check_int(args.workers, "--workers", lo=1)
    check_int(args.sample_populations, "--sample-populations", lo=1)
    try:
        polish = tuple(float(v) for v in args.dest_polish.split(",") if v.strip())
    except ValueError:
        raise UserInputError(f"--dest-polish must be comma-separated step sizes, got "
                             f"{args.dest_polish!r}", key="--dest-polish") from None
    if any(not v > 0 for v in polish):
        raise UserInputError(f"--dest-polish steps must be > 0, got {args.dest_polish!r}",
                             key="--dest-polish")
    check_output(args.out, "--out", kind="file")
    t0 = time.perf_counter()
    sol = solve_tables(WorldConfig(size=args.size), seed=args.seed, m=args.m,
                       plim_iter=args.plim_iter, sample_iter=args.sample_iter,
                       sample_reps=args.sample_reps, correction_iter=args.correction_iter,
                       sample_populations=args.sample_populations, dest_polish=polish,
                       n_jobs=args.workers,
                       log=lambda s: print(s, flush=True))
    check = None
    if args.check_reps > 0:
        cfg = WorldConfig(size=args.check_size, assumptions=sol.theta)
        pop = build_population(cfg, seed_sequence(args.check_seed, "population", 0))
        chk = table_check(pop, root=args.check_seed, reps=args.check_reps, n_jobs=args.workers)
        print(chk.summary())
        check = {"size": args.check_size, "seed": args.check_seed, "reps": args.check_reps,
                 "cells_hit": chk.hits, "cells": len(chk.cells), "valid_n_match": chk.n_hits,
                 "fits": len(chk.valid_n),
                 "misses": {f"{r.model}:{r.term}": r.reason
                            for r in chk.cells[~chk.cells["hit"]].itertuples()}}
    settings = {k: getattr(args, k) for k in DEFAULTS}
    if args.sample_populations != 1 or polish:  # options off the documented procedure
        settings.update(sample_populations=args.sample_populations,
                        dest_polish=",".join(f"{v:g}" for v in polish))
    doc = solution_document(sol, settings, check)
    doc["meta"]["wall_seconds"] = round(time.perf_counter() - t0, 1)
    doc["meta"]["workers"] = args.workers
    write_solution(doc, args.out)
    print(f"solution written to {args.out} ({doc['meta']['wall_seconds']} s)", file=sys.stderr)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "calibrate-tables", help="solve the world's effects to the paper's Tables 7 and 9",
        description="Indirect inference (sim_refugee.calibration.solve): solve the effect "
        "parameters so that the paper design's expected estimates match the printed cells "
        "of Tables 7 and 9, check the solution on a fresh world, and write it as JSON "
        "(the shipped one is src/sim_refugee/targets/tables_solution.json). The defaults "
        "are the documented procedure.")
    for key, val in DEFAULTS.items():
        p.add_argument(f"--{key.replace('_', '-')}", type=int, default=val,
                       help=f"(default {val})")
    p.add_argument("--workers", type=int, default=2, help="processes for the samples (default 2)")
    p.add_argument("--sample-populations", type=int, default=1,
                   help="spread each Monte Carlo round's samples over this many populations "
                   "(default 1, the shipped solution's procedure)")
    p.add_argument("--dest-polish", default="",
                   help="step sizes of the destination block's coordinate search on the "
                   "cells hit, e.g. 0.2,0.1,0.05 (default none, the shipped solution's "
                   "procedure)")
    p.add_argument("--out", required=True, help="output .json file")
    p.set_defaults(func=_calibrate_tables)
