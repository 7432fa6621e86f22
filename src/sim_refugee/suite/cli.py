"""``sim-refugee replicate``: one paper-design sample from the default world, the whole
analysis on it, the paper's tables and claims written beside ours."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

#: Tables a replicate config may have, and the keys of its [suite] table.
CONFIG_TABLES = ("world", "design", "suite")
SUITE_KEYS = {"snp_order": int, "include_variants": bool, "cluster": str, "n": int}


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "replicate",
        help="draw one paper-design sample, rerun the paper's analysis, write tables and claims",
        description="Build the world ([world] of --config, else WorldConfig defaults), draw "
        "one paper-design sample (n = 1,346), run the suite, and write the paper's tables "
        "(CSV + Markdown, the paper's legible cells beside ours) and its claims (in the "
        "sample, and unless --no-census in the population: on the census fit, and on it "
        "with significance judged at the sample's n, 'population_at_n').",
    )
    p.add_argument("--config", help="TOML file with optional [world], [design], [suite] tables")
    p.add_argument("--seed", type=int, required=True, help="root seed (non-negative)")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--no-census", action="store_true",
                   help="skip the census fit (population claims and estimands)")
    p.set_defaults(func=_replicate)


def _read_config(path: str | None) -> dict[str, Any]:
    from sim_refugee.errors import UserInputError
    from sim_refugee.io import read_toml

    if path is None:
        return {}
    data = read_toml(path, "config file")
    for key, val in data.items():
        if key not in CONFIG_TABLES:
            raise UserInputError(f"config: unknown table or key {key!r} (known: "
                                 f"{', '.join(CONFIG_TABLES)})", key=key)
        if not isinstance(val, dict):
            raise UserInputError(f"config: {key!r} must be a table", key=key)
    for key, val in data.get("suite", {}).items():
        if key not in SUITE_KEYS:
            raise UserInputError(f"suite.{key}: unknown key (known: {', '.join(SUITE_KEYS)})",
                                 key=f"suite.{key}")
        typ = SUITE_KEYS[key]
        if not isinstance(val, typ) or (typ is int and isinstance(val, bool)):
            raise UserInputError(f"suite.{key}: must be {typ.__name__}, got {val!r}",
                                 key=f"suite.{key}")
    return data


def _replicate(args: argparse.Namespace) -> int:
    from sim_refugee.errors import UserInputError
    from sim_refugee.validation import check_int, check_output, validate_model

    check_int(args.seed, "--seed", 0, 2**63 - 1)
    out = check_output(args.out, "--out", kind="dir")
    conf = _read_config(args.config)
    suite_conf = conf.get("suite", {})
    n = suite_conf.get("n", 1346)
    if n <= 0:
        raise UserInputError(f"suite.n must be positive, got {n}", key="suite.n")
    order = suite_conf.get("snp_order", 3)
    if not 0 <= order <= 6:
        raise UserInputError(f"suite.snp_order must be in [0, 6], got {order}",
                             key="suite.snp_order")

    from sim_refugee.designs import get_design
    from sim_refugee.world import WorldConfig

    cfg = WorldConfig.from_dict(conf.get("world", {}), where="world")
    design = get_design("paper")
    params = validate_model(design.Params, conf.get("design", {}), prefix="design")
    # ---- everything validated: compute, then write (each file atomically)
    run = replicate(cfg, design, params, seed=args.seed, n=n, snp_order=order,
                    include_variants=suite_conf.get("include_variants", True),
                    cluster=suite_conf.get("cluster"), census=not args.no_census)
    write_outputs(out, run)
    print(f"replicate: n={run['meta']['n interviewed']}, "
          f"{int(run['claims']['sample'].fillna(False).sum())} of {len(run['claims'])} "
          f"claims hold in the sample; outputs in {out}")
    return 0


def replicate(cfg, design, params, seed: int, n: int = 1346, snp_order: int = 3,
              include_variants: bool = True, cluster: str | None = None,
              census: bool = True) -> dict:
    """World -> one paper sample -> suite (and census): the pieces ``write_outputs`` needs.

    Seeds as Contract 6: population ('population', 0), design preparation
    ('prepare', 0, 'paper'), sample ('sample', 0, 0).
    """
    import time

    import pandas as pd

    from sim_refugee.claims import CLAIMS, evaluate_claims
    from sim_refugee.errors import MissingColumnError
    from sim_refugee.seeds import rng_for, seed_sequence
    from sim_refugee.suite import census_fit, run_suite
    from sim_refugee.suite.inquiry import structural_values
    from sim_refugee.world import build_population

    t0 = time.perf_counter()
    pop = build_population(cfg, seed_sequence(seed, "population", 0))
    state = design.prepare(pop, params, rng_for(seed, "prepare", 0, "paper"))
    sample = design.draw(pop, state, n, params, rng_for(seed, "sample", 0, 0))
    if cluster is not None and cluster not in sample.columns:
        raise MissingColumnError(cluster, where="sample (suite.cluster)")
    res = run_suite(sample, cluster=cluster, snp_order=snp_order,
                    include_variants=include_variants)
    cen = census_fit(pop, snp_order=snp_order, include_variants=include_variants) \
        if census else None
    claims = pd.DataFrame({
        "claim": [c.id for c in CLAIMS],
        "sample": evaluate_claims(res).to_numpy(),
        "population": evaluate_claims(cen).to_numpy() if cen is not None else pd.NA,
        "population_at_n": (evaluate_claims(cen, n_ref=len(sample)).to_numpy()
                            if cen is not None else pd.NA),
        "where": [c.where for c in CLAIMS],
        "test": [c.test for c in CLAIMS],
        "sentence": [c.sentence for c in CLAIMS],
    })
    meta = {"seed": seed, "world size": cfg.size, "world effects": cfg.effects,
            "design": "paper", "n interviewed": len(sample), "snp order": snp_order,
            "cluster": cluster or "none", "census": "yes" if census else "no",
            "seconds": round(time.perf_counter() - t0, 1)}
    structural = structural_values(cfg, pop)
    return {"result": res, "census": cen, "claims": claims, "meta": meta,
            "structural": structural}


def write_outputs(out: Path, run: dict) -> None:
    """CSV and Markdown outputs, each written atomically into ``out``."""
    from sim_refugee.io import atomic_path, atomic_write_text
    from sim_refugee.suite.render import markdown_report, table7_wide, table9_wide

    res, cen = run["result"], run["census"]
    est = res.estimates.copy()
    if cen is not None:
        est["census_estimate"] = cen.estimates["estimate"].to_numpy()
        est["census_se"] = cen.estimates["se"].to_numpy()
    est = est.merge(run["structural"][["model", "term", "value"]]
                    .rename(columns={"value": "structural"}), on=["model", "term"], how="left")
    scal = res.scalars.rename("sample").to_frame()
    if cen is not None:
        scal["population"] = cen.scalars.to_numpy()
    tables = res.tables.copy()
    if cen is not None:
        tables["population_pct"] = cen.tables["pct"].to_numpy()
        tables["population_value"] = cen.tables["value"].to_numpy()
    files = {
        "estimates.csv": lambda p: est.to_csv(p, index=False),
        "tables.csv": lambda p: tables.to_csv(p, index=False),
        "tests.csv": lambda p: res.tests.to_csv(p, index=False),
        "scalars.csv": lambda p: scal.to_csv(p, index_label="name"),
        "claims.csv": lambda p: run["claims"].to_csv(p, index=False),
        "table7.csv": lambda p: table7_wide(res, cen).to_csv(p),
        "table7_standardized.csv": lambda p: table7_wide(res, cen, "t7std").to_csv(p),
        "table9.csv": lambda p: table9_wide(res, cen).to_csv(p),
    }
    out.mkdir(parents=True, exist_ok=True)
    for name, write in files.items():
        with atomic_path(out / name) as tmp:
            write(tmp)
    claims_md = run["claims"][["claim", "sample", "population", "population_at_n", "where",
                               "test"]]
    atomic_write_text(out / "report.md", markdown_report(res, claims_md, cen, run["meta"]))
