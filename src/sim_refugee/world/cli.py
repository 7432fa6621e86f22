"""``sim-refugee population``, ``sample`` and ``calibration-report``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def _read_toml(path: str | None, what: str, flag: str = "--config") -> dict[str, Any]:
    """The TOML file's table (a ``[world]``/``[params]`` table if present, else the whole
    file); UserInputError naming the file when missing or malformed."""
    from sim_refugee.io import read_toml

    if path is None:
        return {}
    data = read_toml(path, f"{flag} file")
    return data.get(what, data) if isinstance(data.get(what), dict) else data


def _world_config(args: argparse.Namespace):
    from sim_refugee.validation import MAX_POPULATION_SIZE, MIN_WORLD_SIZE, check_int
    from sim_refugee.world import WorldConfig

    data = _read_toml(args.config, "world")
    if args.size is not None:
        check_int(args.size, "--size", MIN_WORLD_SIZE, MAX_POPULATION_SIZE)
        data = {**data, "size": args.size}
    return WorldConfig.from_dict(data)


def _check_seed(seed: int) -> None:
    from sim_refugee.validation import check_int

    check_int(seed, "--seed", 0, 2**63 - 1)


def _population(args: argparse.Namespace) -> int:
    from sim_refugee.errors import UserInputError, under_key
    from sim_refugee.io import atomic_path
    from sim_refugee.seeds import seed_sequence
    from sim_refugee.validation import check_output
    from sim_refugee.world import build_population

    cfg = _world_config(args)
    _check_seed(args.seed)
    check_output(args.out, "--out", kind="file")
    try:
        pop = build_population(cfg, seed_sequence(args.seed, "population", 0))
    except UserInputError as exc:  # a world that cannot be calibrated: name the key
        raise under_key(exc, "world") from None
    with atomic_path(args.out) as tmp:
        pop.to_parquet(tmp, index=False)
    print(f"population of {len(pop)} written to {args.out}")
    return 0


def _sample(args: argparse.Namespace) -> int:
    import pandas as pd

    from sim_refugee.designs import get_design
    from sim_refugee.errors import UserInputError
    from sim_refugee.io import atomic_path
    from sim_refugee.seeds import rng_for
    from sim_refugee.validation import MAX_POPULATION_SIZE, check_int, check_output, validate_model
    from sim_refugee.world.schema import check_population

    _check_seed(args.seed)
    design = get_design(args.design)
    check_int(args.n, "--n", 1, MAX_POPULATION_SIZE)
    check_output(args.out, "--out", kind="file")
    if not Path(args.population).is_file():
        raise UserInputError(f"--population file {args.population!r} does not exist",
                             key="--population")
    try:
        pop = pd.read_parquet(args.population)
    except Exception as exc:  # pyarrow raises several types for a non-parquet file
        raise UserInputError(f"cannot read --population {args.population!r}: {exc}",
                             key="--population") from None
    check_population(pop, f"--population {args.population!r}")
    if args.n > len(pop):
        raise UserInputError(f"--n {args.n} is larger than the population ({len(pop)})",
                             key="--n")
    params = validate_model(design.Params, _read_toml(args.params, "params", "--params"),
                            prefix="params")
    state = design.prepare(pop, params, rng_for(args.seed, "prepare", 0, args.design))
    sample = design.draw(pop, state, args.n, params, rng_for(args.seed, "sample", 0, 0))
    with atomic_path(args.out) as tmp:
        sample.to_csv(tmp, index=False)
    print(f"{len(sample)} interviews ({args.design}) written to {args.out}")
    return 0


def _calibration_report(args: argparse.Namespace) -> int:
    from sim_refugee.errors import UserInputError, under_key
    from sim_refugee.io import atomic_path
    from sim_refugee.seeds import seed_sequence
    from sim_refugee.validation import check_int, check_output
    from sim_refugee.world import build_population_with_calibration

    cfg = _world_config(args)
    _check_seed(args.seed)
    if args.out:
        check_output(args.out, "--out", kind="file")
    check_int(args.table_reps, "--table-reps", lo=0)
    check_int(args.workers, "--workers", lo=1)
    if args.tables_out:
        check_output(args.tables_out, "--tables-out", kind="file")
    try:
        pop, res = build_population_with_calibration(
            cfg, seed_sequence(args.seed, "population", 0))
    except UserInputError as exc:
        raise under_key(exc, "world") from None
    tab = res.table if args.all else res.table[res.table["documented"]]
    tab = tab.rename(columns={"expected_sample": "expected sample",
                              "population": "implied population"})
    print(f"calibration: mode={res.mode}, size={cfg.size}, effects={cfg.effects}, "
          f"expected sample at n={res.sample_n or 'n<<N limit'}, sweeps={res.sweeps}, "
          f"max |error| of solved margins={res.max_error:.4f}")
    print(f"selection: {cfg.selection.model_dump()}")
    cols = ["name", "group", "target", "bound", "expected sample", "implied population",
            "solved"]
    print(tab[cols].to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    if args.out:
        with atomic_path(args.out) as tmp:
            tab.to_csv(tmp, index=False)
    if args.table_reps > 0:
        _table_section(pop, args)
    return 0


def _table_section(pop, args: argparse.Namespace) -> None:
    """The table check: every Table 7/9 cell and valid N of the paper design's samples."""
    from sim_refugee.calibration.report import format_cells, table_check
    from sim_refugee.io import atomic_path
    from sim_refugee.targets import tables_solution

    meta = tables_solution()["meta"]
    print()
    print(f"tables: expected estimates over {args.table_reps} paper-design samples of 1,346 "
          f"(seed {args.seed}); effects from the shipped solution "
          f"(code {meta.get('code_version', {}).get('git_commit') or 'unknown'}, "
          f"seed {meta.get('settings', {}).get('seed')})")
    chk = table_check(pop, root=args.seed, reps=args.table_reps, n_jobs=args.workers)
    print(format_cells(chk.cells))
    print()
    print(chk.valid_n.to_string(index=False, float_format=lambda x: f"{x:.0f}"))
    print()
    print(chk.summary())
    if args.tables_out:
        with atomic_path(args.tables_out) as tmp:
            chk.cells.to_csv(tmp, index=False)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "population", help="build a synthetic refugee population (Parquet)",
        description="Build a calibrated population and write it as Parquet.")
    p.add_argument("--size", type=int, default=None, help="population size (default 100000)")
    p.add_argument("--seed", type=int, required=True, help="root seed")
    p.add_argument("--config", default=None, help="TOML file: WorldConfig keys (or a [world] table)")
    p.add_argument("--out", required=True, help="output .parquet file")
    p.set_defaults(func=_population)

    p = subparsers.add_parser(
        "sample", help="draw a sample from a population file",
        description="Draw n interviews with a design and write them as CSV.")
    p.add_argument("--population", required=True, help="population .parquet file")
    p.add_argument("--design", default="paper", help="design name (default paper)")
    p.add_argument("--n", type=int, default=1346, help="sample size (default 1346)")
    p.add_argument("--seed", type=int, required=True, help="root seed")
    p.add_argument("--params", default=None, help="TOML file of design parameters")
    p.add_argument("--out", required=True, help="output .csv file")
    p.set_defaults(func=_sample)

    p = subparsers.add_parser(
        "calibration-report", help="target vs expected sample vs implied population",
        description="Calibrate a world and print, for every documented margin, the "
        "target, the expected paper-design sample margin and the implied population margin; "
        "then sample it the paper's way and print every printed cell of Tables 7 and 9 "
        "(pattern, expected estimate, expected z, hit or why not) and every fit's valid N.")
    p.add_argument("--size", type=int, default=None, help="population size (default 100000)")
    p.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    p.add_argument("--config", default=None, help="TOML file: WorldConfig keys (or a [world] table)")
    p.add_argument("--all", action="store_true", help="include the assumed margins too")
    p.add_argument("--out", default=None, help="also write the margins table as CSV")
    p.add_argument("--table-reps", type=int, default=40,
                   help="paper-design samples for the table check (default 40; 0 skips it)")
    p.add_argument("--workers", type=int, default=1, help="processes for the table check")
    p.add_argument("--tables-out", default=None, help="also write the cell table as CSV")
    p.set_defaults(func=_calibration_report)
