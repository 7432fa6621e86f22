"""``sim-refugee diagnose DIR``: measures with MCSEs from a run's results."""

from __future__ import annotations

import argparse
from pathlib import Path


def _diagnose(args: argparse.Namespace) -> int:
    from sim_refugee.diagnosis.output import write_diagnosis
    from sim_refugee.diagnosis.stream import diagnose_results
    from sim_refugee.engine.claims_eval import ClaimEvaluator
    from sim_refugee.engine.storage import results_path
    from sim_refugee.errors import UserInputError
    from sim_refugee.validation import check_output

    d = Path(args.dir)
    if not d.exists():
        raise UserInputError(f"run folder {str(d)!r} does not exist", key="DIR")
    if args.out:
        check_output(args.out, "--out", kind="dir")
    path, lab, unit = results_path(d)  # collected first if needed (checksums checked)
    # streaming: one block of replications in memory at a time; the claims are evaluated
    # now, from the stored estimates, with the current claim registry
    from sim_refugee.engine.units import UNIT_NAMES
    from sim_refugee.validation import MAX_COUNT, check_int

    block = check_int(args.block, "--block", 1, MAX_COUNT)
    evaluator = ClaimEvaluator(unit, lab) if unit in UNIT_NAMES else None
    diag = diagnose_results(path, block=block, claims=evaluator)
    out = args.out or (d if d.is_dir() else d.parent)
    paths = write_diagnosis(diag, out)
    if d.is_dir():  # an ensemble run: claims and coverage across its worlds
        from sim_refugee.ensemble.summary import write_ensemble

        paths.update(write_ensemble(d, diag, out))
    for k, p in paths.items():
        print(f"{k}: {p}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "diagnose",
        help="bias, coverage, power, claim reproduction... with Monte Carlo SEs",
        description="Diagnose a run folder (or a results.nc): writes diagnostics.nc, "
        "diagnostics.csv and diagnostics.md.",
    )
    p.add_argument("dir", metavar="DIR", help="run folder (from `run`) or results.nc")
    p.add_argument("--out", default=None, help="folder for the outputs (default: DIR)")
    p.add_argument("--block", type=int, default=2000,
                   help="replications read at a time (memory, not results)")
    p.set_defaults(func=_diagnose)
