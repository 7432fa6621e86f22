"""``sim-refugee tipping CONFIG --out DIR``: the selection tipping point."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from sim_refugee.engine.cli import add_search_arguments, backend_from_args


def _tipping(args: argparse.Namespace) -> int:
    from sim_refugee.tipping.config import load_tipping
    from sim_refugee.tipping.output import write_outputs
    from sim_refugee.tipping.run import check_out, run_tipping

    cfg = load_tipping(args.config)
    backend = backend_from_args(cfg.experiment.file.backend, args)
    out = Path(args.out) if args.out else Path("runs") / cfg.experiment.file.experiment.name
    check_out(out)

    def done(row: int, t: int, res) -> None:  # noqa: ANN001
        if args.quiet:
            return
        where = f" [{cfg.map_parameter} = {cfg.map_values[row]}]" if cfg.map_parameter else ""
        val = f"{res.value:.4g}" if math.isfinite(res.value) else "-"
        ci = (f" [{res.ci_low:.4g}, {res.ci_high:.4g}]"
              if math.isfinite(res.ci_low) and math.isfinite(res.ci_high) else "")
        print(f"{cfg.targets[t].label}{where}: {res.status} {val}{ci} "
              f"({res.replications} replications)", file=sys.stderr, flush=True)

    run = run_tipping(cfg, backend, on_done=done)
    paths = write_outputs(run, out)
    print(f"{run.computed} replications computed in {run.seconds:.1f} s; "
          f"results: {paths['tipping.csv']}, figure: {paths['tipping.png']}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "tipping", help="selection tipping point: the weakest strength that fakes a claim",
        description="For each target of CONFIG's [tipping] table (a claim, a term's "
        "rejection rate, or a term's coverage) find the weakest strength along the declared "
        "direction at which the target is produced in a given share of samples (or the "
        "coverage falls below a level), by stochastic root finding with Monte Carlo error "
        "control. Writes DIR/tipping.csv, probes.csv, tipping.json and tipping.png "
        "(docs/TIPPING.md).",
    )
    add_search_arguments(p, "tipping")
    p.set_defaults(func=_tipping)
