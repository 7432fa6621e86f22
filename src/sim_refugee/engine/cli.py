"""``sim-refugee run CONFIG`` and ``sim-refugee collect DIR``."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim_refugee.engine.config import BackendSection


def add_backend_arguments(p: argparse.ArgumentParser) -> None:
    """--backend, --workers and --scheduler (read back by ``backend_from_args``): the
    same flags for every command that runs replications (run, tipping, plan)."""
    p.add_argument("--backend", choices=["serial", "loky", "dask"], default=None,
                   help="overrides [backend] kind")
    p.add_argument("--workers", type=int, default=None, help="worker processes (loky, dask)")
    p.add_argument("--scheduler", default=None, help="dask scheduler address (implies dask)")


def add_search_arguments(p: argparse.ArgumentParser, what: str) -> None:
    """The arguments the two root-finding commands (tipping, plan) share: CONFIG, --out,
    the backend flags and --quiet."""
    p.add_argument("config", metavar="CONFIG", help=f"{what} TOML file")
    p.add_argument("--out", default=None, help="output folder (default runs/<name>); "
                   "must be empty or not exist")
    add_backend_arguments(p)
    p.add_argument("--quiet", action="store_true", help="no line per finished search")


def backend_from_args(file_backend: BackendSection, args: argparse.Namespace) -> BackendSection:
    """The config's [backend] with the command line's --backend/--workers/--scheduler on
    top, validated (errors name the key); shared by ``run`` and ``tipping``."""
    from pydantic import ValidationError

    from sim_refugee.engine.config import BackendSection, pydantic_error
    from sim_refugee.errors import UserInputError
    from sim_refugee.validation import MAX_COUNT, check_int

    upd = {}
    if args.backend:
        upd["kind"] = args.backend
    if args.workers is not None:
        upd["workers"] = check_int(args.workers, "--workers", 1, MAX_COUNT)
    if args.scheduler:
        upd["scheduler"] = args.scheduler
        upd.setdefault("kind", "dask")
    merged = {**file_backend.model_dump(), **upd}
    try:
        backend = BackendSection.model_validate(merged)
    except ValidationError as exc:
        raise pydantic_error(exc, "backend", data=merged) from None
    if backend.scheduler and backend.kind != "dask":
        raise UserInputError("--scheduler needs --backend dask", key="--scheduler")
    return backend


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (a scheduler's cancel, ``kill``) raises KeyboardInterrupt, so the run's
    cleanup (workers shut down, lock released) happens as on Ctrl-C."""

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    try:
        old = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def _run(args: argparse.Namespace) -> int:
    from sim_refugee.engine.config import load_experiment
    from sim_refugee.engine.run import run_experiment

    exp = load_experiment(args.config)
    backend = backend_from_args(exp.file.backend, args)
    out = Path(args.out) if args.out else Path("runs") / exp.file.experiment.name
    with _sigterm_as_interrupt():
        try:
            summary = run_experiment(exp, out, backend=backend, resume=args.resume,
                                     progress=False if args.no_progress else None,
                                     recompute_stale=args.recompute_stale)
        except KeyboardInterrupt:
            print(f"interrupted; workers stopped. Continue with --resume --out {out}",
                  file=sys.stderr)
            return 130
    print(
        f"{summary['computed_reps']} replications computed, {summary['skipped_reps']} resumed, "
        f"{summary['seconds']:.1f} s ({summary['reps_per_second']:.2f} reps/s); "
        f"results: {summary.get('results', out)}"
    )
    return 0


def _collect(args: argparse.Namespace) -> int:
    from sim_refugee.engine.storage import collect
    from sim_refugee.errors import UserInputError

    if not Path(args.dir).is_dir():
        raise UserInputError(f"run folder {args.dir!r} does not exist", key="DIR")
    from sim_refugee.engine.integrity import folder_lock

    with folder_lock(Path(args.dir)):  # not while a run is writing into it
        print(collect(args.dir, allow_partial=args.allow_partial))
    return 0


def _rerun(args: argparse.Namespace) -> int:
    from sim_refugee.engine.rerun import _cli

    return _cli(args)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "run", help="run an experiment config (Monte Carlo)",
        description="Run an experiment: validates CONFIG, runs every chunk on the chosen "
        "backend, writes DIR/chunks/*.nc and DIR/results.nc.",
    )
    p.add_argument("config", metavar="CONFIG", help="experiment TOML file")
    add_backend_arguments(p)
    p.add_argument("--resume", action="store_true", help="continue a run in --out")
    p.add_argument("--recompute-stale", action="store_true",
                   help="with --resume: recompute chunks computed with another layout or code "
                   "version (else such a resume is refused)")
    p.add_argument("--out", default=None, help="output folder (default runs/<name>)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_run)

    c = subparsers.add_parser(
        "collect", help="merge a run's chunks into DIR/results.nc",
        description="Merge chunk files into one netCDF; fails if replications are missing.",
    )
    c.add_argument("dir", metavar="DIR")
    c.add_argument("--allow-partial", action="store_true",
                   help="collect even if some replications are missing")
    c.set_defaults(func=_collect)

    r = subparsers.add_parser(
        "rerun", help="recompute one stored replication and compare it bit for bit",
        description="Recompute replication KEY of a run (every design, or --design) from "
        "its keyed seed, print its fit statuses and messages, and compare it bit for bit "
        "with the stored chunk. Exit 0 if identical, 1 if not.")
    r.add_argument("dir", metavar="OUT", help="run folder")
    r.add_argument("--key", required=True, help="sample/<population>/<replication>")
    r.add_argument("--design", default=None, help="design label (default: every design)")
    r.add_argument("--condition", default=None,
                   help="condition key, e.g. c000 (default: every condition)")
    r.set_defaults(func=_rerun)
