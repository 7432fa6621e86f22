"""``sim-refugee plan CONFIG --out DIR``: the cheapest design that reaches the targets."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from sim_refugee.engine.cli import add_search_arguments, backend_from_args


def _plan(args: argparse.Namespace) -> int:
    from sim_refugee.plan.config import load_plan
    from sim_refugee.plan.output import write_outputs
    from sim_refugee.plan.run import run_plan
    from sim_refugee.tipping.run import check_out

    cfg = load_plan(args.config)
    first = cfg.cells[0].cfg.experiment.file
    backend = backend_from_args(first.backend, args)
    out = Path(args.out) if args.out else Path("runs") / first.experiment.name
    check_out(out)

    def done(i: int, t: int, res) -> None:  # noqa: ANN001
        if args.quiet:
            return
        c = cfg.cells[i]
        val = f"{res.value:.4g}" if math.isfinite(res.value) else "-"
        print(f"{c.design} / {c.scenario} / {c.cfg.targets[t].label}: {res.status} {val} "
              f"({res.replications} replications)", file=sys.stderr, flush=True)

    def progress(computed: int, seconds: float) -> None:
        if args.progress:
            print(f"  {computed} replications, {seconds:.0f} s", file=sys.stderr, flush=True)

    run = run_plan(cfg, backend, on_done=done, on_round=progress)
    paths = write_outputs(run, out)
    print(f"{run.computed} replications computed in {run.seconds:.1f} s; "
          f"results: {paths['plan.csv']}, report: {paths['report.md']}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "plan", help="survey planner: the cheapest design and size that reach the targets",
        description="For each candidate design of CONFIG and each selection scenario of its "
        "[plan] table, find the smallest sample size (or count) at which every power target "
        "and every RMSE target is reached (stochastic root finding with Monte Carlo error "
        "control, shared with `tipping`), take each design's worst case over the scenarios, "
        "check every target (coverage included) there, and report the cheapest design that passes under the "
        "declared cost model. Writes DIR/plan.csv, probes.csv, plan.json, report.md and "
        "cost_power.png (docs/PLAN.md).",
    )
    add_search_arguments(p, "plan")
    p.add_argument("--progress", action="store_true",
                   help="a line per round of replications (count and time)")
    p.set_defaults(func=_plan)
