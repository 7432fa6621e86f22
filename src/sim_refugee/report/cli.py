"""``sim-refugee report DIR``: the Markdown report (figures + tables) of a run folder."""

from __future__ import annotations

import argparse


def _report(args: argparse.Namespace) -> int:
    from sim_refugee.report.build import make_report
    from sim_refugee.validation import check_output

    if args.out:
        check_output(args.out, "--out", kind="dir")
    path = make_report(args.dir, args.out, figures=not args.no_figures)
    print(f"report: {path}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "report",
        help="Markdown report with PNG figures and tables from a run folder",
        description="Write DIR/report/report.md and its PNG figures from a run folder "
        "(manifest.json plus diagnostics.nc, or results.nc to diagnose on the fly). "
        "Built in a temporary folder and renamed into place.",
    )
    p.add_argument("dir", metavar="DIR", help="run folder (from `sim-refugee run`)")
    p.add_argument("--out", default=None, help="report folder (default: DIR/report)")
    p.add_argument("--no-figures", action="store_true", help="tables only (faster)")
    p.set_defaults(func=_report)
