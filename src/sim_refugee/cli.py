"""The ``sim-refugee`` command line.

Each part of the package owns its subcommands in its own ``cli`` module, which
exposes ``register(subparsers)``; this module only wires them together and maps
bad input (``UserInputError``) to a clear message and exit code 2.
Heavy imports happen inside the subcommand handlers, so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from sim_refugee import __version__
from sim_refugee.errors import UserInputError

# Modules that register subcommands, in the order they appear in --help.
_SUBCOMMAND_MODULES = (
    "sim_refugee.world.cli",  # population, sample, calibration-report
    "sim_refugee.calibration.cli",  # calibrate-tables
    "sim_refugee.suite.cli",  # replicate
    "sim_refugee.engine.cli",  # run, collect
    "sim_refugee.diagnosis.cli",  # diagnose
    "sim_refugee.report.cli",  # report
    "sim_refugee.tipping.cli",  # tipping
    "sim_refugee.plan.cli",  # plan
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sim-refugee",
        description="Simulation-based diagnosis of the 2004-05 North Korean refugee survey.",
    )
    parser.add_argument("--version", action="version", version=f"sim-refugee {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in _SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a part not built yet must not break the others
            if exc.name != name:
                raise
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UserInputError as exc:
        print(f"sim-refugee {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
