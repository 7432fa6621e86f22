"""Count what the nonprob diagnostics cost per replication, against the suite (by hand).

Counting, not timing: run under valgrind's callgrind, which counts the machine
instructions each phase executes (deterministic, whatever else loads the machine); the
script asks callgrind for a dump after each phase, and ``--report`` prints each phase's
instruction count and the ratio nonprob / suite:

    python analysis/nonprob_cost.py --population pop.parquet --make-population  # native
    valgrind --tool=callgrind --callgrind-out-file=cg/out \\
        python analysis/nonprob_cost.py --population pop.parquet
    python analysis/nonprob_cost.py --report cg/out

Phases of one replication of the paper-suite unit at n = 1,346 on the default world:
a warm-up replication (lazy imports, caches, the population's nonprob benchmark, which
is computed once per population and cached), then for the next replication: the draw
(the paper design), the suite without and with the Table 7 footnote variants
(``include_variants``) and ``sample_diagnostics`` (the cost the hook adds per
replication). Without valgrind the script just runs the phases.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
from pathlib import Path

PHASES = ("setup", "warmup", "draw", "suite_no_variants", "suite_variants", "nonprob")


def _dump(tag: str) -> None:
    """Ask callgrind (if this process runs under it) to dump the counts so far."""
    try:
        subprocess.run(["callgrind_control", "-d", tag, str(os.getpid())], check=False,
                       capture_output=True, timeout=600)
    except (FileNotFoundError, subprocess.TimeoutExpired):
        pass


def run(population: Path, seed: int) -> None:
    import pandas as pd

    from sim_refugee.designs import get_design
    from sim_refugee.diagnosis.nonprob_sample import sample_diagnostics
    from sim_refugee.seeds import rng_for
    from sim_refugee.suite import run_suite

    pop = pd.read_parquet(population)  # attrs (calibrated selection, site quotas) kept
    design = get_design("paper")
    params = design.Params()
    state = design.prepare(pop, params, rng_for(seed, "prepare", 0, "paper"))
    _dump("setup")
    # replication 0 warms up: lazy imports, caches, the population's nonprob benchmark
    sample = design.draw(pop, state, 1346, params, rng_for(seed, "sample", 0, 0))
    run_suite(sample, include_variants=True)
    sample_diagnostics(sample, pop)
    _dump("warmup")
    sample = design.draw(pop, state, 1346, params, rng_for(seed, "sample", 0, 1))
    _dump("draw")
    run_suite(sample, include_variants=False)
    _dump("suite_no_variants")
    run_suite(sample, include_variants=True)
    _dump("suite_variants")
    sample_diagnostics(sample, pop)
    _dump("nonprob")


def report(out: str) -> None:
    counts = {}
    for path in sorted(Path(out).parent.glob(Path(out).name + "*")):
        text = path.read_text(errors="replace")
        desc = re.search(r"^desc: Trigger: dump (\S+)", text, re.M)
        tot = re.search(r"^summary: (\d+)", text, re.M)
        if desc and tot:
            counts[desc.group(1)] = int(tot.group(1))
    for p in PHASES:
        if p in counts:
            print(f"{p:20s} {counts[p]:>16,d} instructions")
    if {"nonprob", "suite_variants", "suite_no_variants", "draw"} <= set(counts):
        for s in ("suite_variants", "suite_no_variants"):
            rep = counts[s] + counts["draw"]
            print(f"nonprob / (draw + {s}) = {counts['nonprob'] / rep:.4f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--population", type=Path, default=Path("pop_nonprob_cost.parquet"))
    ap.add_argument("--make-population", action="store_true",
                    help="build the default world (100,000, seed 1) into --population")
    ap.add_argument("--seed", type=int, default=20080401)
    ap.add_argument("--report", metavar="CALLGRIND_OUT", help="print the counts of a run")
    a = ap.parse_args()
    if a.report:
        report(a.report)
    elif a.make_population:
        from sim_refugee.seeds import seed_sequence
        from sim_refugee.world import WorldConfig, build_population

        pop = build_population(WorldConfig(size=100_000), seed_sequence(a.seed, "population", 0))
        pop.to_parquet(a.population)
    else:
        run(a.population, a.seed)


if __name__ == "__main__":
    main()
