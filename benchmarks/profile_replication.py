"""Profile whole replications without trusting the clock (valid on a loaded machine).

    python3 benchmarks/profile_replication.py cprofile [--reps 6]   # call counts, shares
    valgrind --tool=callgrind python3 benchmarks/profile_replication.py work --reps 0
    valgrind --tool=callgrind python3 benchmarks/profile_replication.py work --reps 3

``cprofile`` prints the functions by internal time with their call counts (the shares
are distorted by the profiler and by load, the counts are exact). ``work`` runs the
setup (population, design, a warm-up replication) and then ``--reps`` replications
(draw, suite, record and claims): the difference of the instruction counts callgrind
reports for ``--reps 3`` and ``--reps 0``, divided by 3, is the instructions of one
replication, repeatable whatever else runs on the machine.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=("cprofile", "work"))
    ap.add_argument("--reps", type=int, default=6)
    ap.add_argument("--size", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=20080401)
    args = ap.parse_args()

    from sim_refugee.designs import get_design
    from sim_refugee.engine.unit_suite import UNIT
    from sim_refugee.estimators._threads import pin_threads
    from sim_refugee.seeds import rng_for, seed_sequence
    from sim_refugee.world import WorldConfig, build_population

    pin_threads(1)
    pop = build_population(WorldConfig(size=args.size), seed_sequence(args.seed, "population", 0))
    design = get_design("paper")
    dp = design.Params()
    state = design.prepare(pop, dp, rng_for(args.seed, "prepare", 0, "paper"))
    params = UNIT.validate_params({})

    def rep(r: int) -> None:
        UNIT.replicate(pop, state, "paper", 1346, dp, params,
                       rng_for(args.seed, "sample", 0, r), r)

    rep(10_000)  # warm-up: imports, caches, the compiled kernel
    if args.mode == "work":
        for r in range(args.reps):
            rep(r)
        return
    prof = cProfile.Profile()
    prof.enable()
    for r in range(args.reps):
        rep(r)
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(40)
    print(f"{args.reps} replications; per-replication calls = ncalls / {args.reps}")
    print(out.getvalue())


if __name__ == "__main__":
    main()
