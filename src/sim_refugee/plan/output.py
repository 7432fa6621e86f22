"""What a plan run writes: ``plan.csv``, ``probes.csv``, ``plan.json``, ``report.md`` and
``cost_power.png`` (cost against power, one panel per design). Everything is rendered in
memory first, then each file is written atomically (temporary file + rename).

plan.csv has three kinds of rows (column ``row``):

* ``search``: one per (design, scenario, searched target: power or RMSE): ``value`` is
  the smallest value of the parameter reaching the target (ceil of the root; CI from
  the root's Fieller interval), ``achieved`` the share (RMSE) measured at the
  confirmation point, ``replications`` the search's; ``status`` the search's (for RMSE
  also ``unreachable``: the bias alone exceeds ``max``);
* ``check``: one per (design, scenario, target) at the design's planned value (its worst
  case over scenarios): ``achieved`` is the power (claim/term), the coverage or the
  RMSE, with its MCSE and the ``check_replications`` used; ``status`` ``meets``/``fails``;
* ``design``: one per design (scenario ``worst``): planned value (with ``plan.conservative``,
  the default, the largest upper CI end of the roots), its cost, the worst
  achieved power over scenarios and targets (with RMSE targets only: the worst RMSE), ``status`` ``feasible``/``infeasible``, and
  ``chosen`` for the cheapest feasible design.
"""

from __future__ import annotations

import io
import json
import math
import time
from pathlib import Path
from typing import Any

import pandas as pd

from sim_refugee.engine.storage import package_versions
from sim_refugee.io import write_files
from sim_refugee.plan.costs import default_reason
from sim_refugee.plan.run import (
    STREAM,
    PlanRun,
    check_passes,
    cost_at,
    design_summary,
    needed,
    power_targets,
    rmse_targets,
    searched_targets,
)

COLUMNS: tuple[str, ...] = (
    "row", "design", "scenario", "target", "kind", "threshold", "parameter", "value",
    "ci_low", "ci_high", "cost", "achieved", "achieved_mcse", "replications", "status",
    "chosen",
)


def _ceil(x: float) -> float:
    return float(math.ceil(x)) if math.isfinite(x) else math.nan


def plan_frame(run: PlanRun) -> pd.DataFrame:
    """plan.csv as a DataFrame (see module docstring)."""
    cfg = run.cfg
    rows: list[dict[str, Any]] = []
    targets = cfg.cells[0].cfg.targets
    for i, c in enumerate(cfg.cells):
        src = run.cell_index(i)
        param = cfg.ranges[c.design].parameter
        lower = cfg.ranges[c.design].lower
        for t in searched_targets(cfg):
            res = run.searches[(src, t)]
            v = needed(res, lower)
            rows.append(dict(
                row="search", design=c.design, scenario=c.scenario, target=targets[t].label,
                kind=targets[t].kind, threshold=targets[t].threshold, parameter=param,
                value=v if math.isfinite(v) else math.nan, ci_low=_ceil(res.ci_low),
                ci_high=_ceil(res.ci_high),
                cost=cost_at(cfg, c.design, v) if math.isfinite(v) else math.nan,
                achieved=res.share_at_value, achieved_mcse=res.share_mcse,
                replications=res.replications if src == i else 0, status=res.status,
                chosen=False))
    summary = design_summary(run)
    for i, c in enumerate(cfg.cells):
        chk = run.checks.get(run.cell_index(i))
        if chk is None:
            continue
        for t, tg in enumerate(targets):
            a, se, ok = check_passes(run, i, t)
            thr = 1 - tg.threshold if tg.kind == "coverage" else tg.threshold
            rows.append(dict(
                row="check", design=c.design, scenario=c.scenario, target=tg.label,
                kind=tg.kind, threshold=thr, parameter=cfg.ranges[c.design].parameter,
                value=float(chk.value), ci_low=math.nan, ci_high=math.nan,
                cost=summary[c.design]["cost"], achieved=a, achieved_mcse=se,
                replications=chk.m if run.cell_index(i) == i else 0,
                status="meets" if ok else "fails", chosen=False))
    for d in cfg.designs:
        s = summary[d]
        rows.append(dict(
            row="design", design=d, scenario="worst", target="all", kind="all",
            threshold=math.nan, parameter=cfg.ranges[d].parameter, value=s["value"],
            ci_low=math.nan, ci_high=math.nan, cost=s["cost"],
            achieved=s["worst_power"] if math.isfinite(s["worst_power"]) else s["worst_rmse"],
            achieved_mcse=math.nan, replications=s["replications"],
            status="feasible" if s["feasible"] else "infeasible", chosen=s["chosen"]))
    return pd.DataFrame(rows, columns=list(COLUMNS))


def probes_frame(run: PlanRun) -> pd.DataFrame:
    """Every probed point of every search, with its cost."""
    cfg = run.cfg
    rows = []
    for (i, t), res in run.searches.items():
        c = cfg.cells[i]
        rmse = c.cfg.targets[t].kind == "rmse"
        for p in res.probes:
            rows.append(dict(design=c.design, scenario=c.scenario,
                             target=c.cfg.targets[t].label, value=p.x,
                             cost=cost_at(cfg, c.design, p.x), replications=p.m,
                             events=math.nan if rmse else p.events,
                             share=math.nan if rmse else p.events / p.m,
                             rmse=p.measure if rmse else math.nan, decision=p.decision))
    return pd.DataFrame(rows)


def _fmt(x: float, spec: str = ".0f") -> str:
    return format(x, spec) if isinstance(x, (int, float)) and math.isfinite(x) else "-"


def _describe(t: Any, cfg: Any) -> str:
    if t.kind == "coverage":
        return f"coverage of {t.ref} at least {1 - t.threshold:g}"
    if t.kind == "rmse":
        return f"RMSE of {t.ref} (against the census value) at most {t.threshold:g}"
    return t.description


def report_md(run: PlanRun, frame: pd.DataFrame) -> str:
    """report.md: the answer, the table per design, the searches, the cost assumptions."""
    cfg = run.cfg
    name = cfg.cells[0].cfg.experiment.file.experiment.name
    summary = design_summary(run)
    chosen = [d for d, s in summary.items() if s["chosen"]]
    targets = cfg.cells[0].cfg.targets
    lines = [f"# Plan: {name}", ""]
    lines += ["Targets: " + "; ".join(_describe(t, cfg) for t in targets) + ".",
              f"Scenarios: {', '.join(cfg.scenarios)}. The cheapest design whose worst case "
              "over the scenarios meets every target (run.py, docs/PLAN.md).", ""]
    if chosen:
        d = chosen[0]
        s = summary[d]
        lines.append(f"**Answer: {d} at {cfg.ranges[d].parameter} = {_fmt(s['value'])}, cost "
                     f"{_fmt(s['cost'], '.1f')}** (worst power over scenarios "
                     f"{_fmt(s['worst_power'], '.2f')}, worst coverage "
                     f"{_fmt(s['worst_coverage'], '.3f')}, worst RMSE "
                     f"{_fmt(s['worst_rmse'], '.4g')}).")
    else:
        lines.append("**No design meets every target in every scenario within its range.**")
    lines += ["", "| design | parameter | planned value | cost | worst power | worst coverage "
              "| worst RMSE | replications | status |", "|---|---|---|---|---|---|---|---|---|"]
    for d in cfg.designs:
        s = summary[d]
        lines.append(f"| {d}{' (chosen)' if s['chosen'] else ''} | {cfg.ranges[d].parameter} | "
                     f"{_fmt(s['value'])} | {_fmt(s['cost'], '.1f')} | "
                     f"{_fmt(s['worst_power'], '.3f')} | {_fmt(s['worst_coverage'], '.3f')} | "
                     f"{_fmt(s['worst_rmse'], '.4g')} | {s['replications']} | {'feasible' if s['feasible'] else 'infeasible'} |")
    how = ("the upper end of each root's 95% CI" if cfg.section.conservative
           else "each root's estimate")
    lines += ["", f"Planned value: the largest over scenarios and searched (power and RMSE) "
              f"targets of {how} "
              "(column `value` of the design rows in plan.csv). Replications: computed "
              "for the design (searches and checks; shared points counted once).",
              "", "## Searches (smallest value reaching each power or RMSE target)", "",
              "| design | scenario | target | value | 95% CI | share or RMSE at root (MCSE) | "
              "replications | status |", "|---|---|---|---|---|---|---|---|"]
    for r in frame[frame["row"] == "search"].itertuples():
        spec = ".4g" if r.kind == "rmse" else ".3f"
        lines.append(f"| {r.design} | {r.scenario} | {r.target} | {_fmt(r.value)} | "
                     f"[{_fmt(r.ci_low)}, {_fmt(r.ci_high)}] | {_fmt(r.achieved, spec)} "
                     f"({_fmt(r.achieved_mcse, spec)}) | {r.replications} | {r.status} |")
    lines += ["", f"## Check at the planned value ({cfg.check_replications} replications per "
              "scenario)", "", "| design | scenario | target | value | achieved (MCSE) | "
              "asked | status |", "|---|---|---|---|---|---|---|"]
    for r in frame[frame["row"] == "check"].itertuples():
        spec = ".4g" if r.kind == "rmse" else ".3f"
        lines.append(f"| {r.design} | {r.scenario} | {r.target} | {_fmt(r.value)} | "
                     f"{_fmt(r.achieved, spec)} ({_fmt(r.achieved_mcse, spec)}) | "
                     f"{_fmt(r.threshold, '.4g' if r.kind == 'rmse' else '.2f')} | {r.status} |")
    lines += ["", "## Cost models", ""]
    for d in cfg.designs:
        m = cfg.costs[d].model_dump()
        given = sorted(cfg.section.costs[d].model_dump(exclude_unset=True)) \
            if d in cfg.section.costs else []
        lines.append(f"- **{d}** ({cfg.design_names[d]}): "
                     + ", ".join(f"{k} {v}" for k, v in m.items() if v)
                     + f". Defaults: {default_reason(cfg.design_names[d])}"
                     + (f" Set in the config: {', '.join(given)}." if given else ""))
    lines += ["", "![cost against power](cost_power.png)", "",
              f"{run.computed} replications in {run.seconds:.0f} s. Seeds: replication r at "
              f"value v: rng_for(root_seed, {STREAM!r}, v, r).", ""]
    return "\n".join(lines)


def figure_png(run: PlanRun) -> bytes:
    """Cost against power: the share measured at every probed value (95% Clopper-Pearson
    bars) on a cost axis, one panel per design, a line per (scenario, power target);
    the target share and the planned cost are marked. With RMSE targets, a second row:
    the RMSE measured at every probed value against cost, the max asked marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sim_refugee.search.rootfind import clopper_pearson

    cfg = run.cfg
    summary = design_summary(run)
    n = len(cfg.designs)
    kinds = [k for k, ts in (("power", power_targets(cfg)), ("rmse", rmse_targets(cfg))) if ts]
    fig, axes = plt.subplots(len(kinds), n, figsize=(4.2 * n, 3.6 * len(kinds)),
                             squeeze=False, sharey="row")
    for row, kind in enumerate(kinds):
        for ax, d in zip(axes[row], cfg.designs, strict=True):
            for (i, t), res in sorted(run.searches.items()):
                tg = cfg.cells[i].cfg.targets[t]
                if (tg.kind == "rmse") != (kind == "rmse"):
                    continue
                for j, c in enumerate(cfg.cells):
                    if c.design != d or run.cell_index(j) != i:
                        continue
                    pr = sorted(res.probes, key=lambda p: p.x)
                    x = [cost_at(cfg, d, p.x) for p in pr]
                    label = f"{c.scenario}: {tg.label}"
                    if kind == "rmse":
                        ax.plot(x, [p.measure for p in pr], marker="o", ms=3, lw=1, label=label)
                        ax.axhline(tg.threshold, color="grey", ls="--", lw=1)
                        continue
                    y = [p.events / p.m for p in pr]
                    ci = [clopper_pearson(p.events, p.m, 0.95) for p in pr]
                    err = [[yy - lo for yy, (lo, _) in zip(y, ci, strict=True)],
                           [hi - yy for yy, (_, hi) in zip(y, ci, strict=True)]]
                    ax.errorbar(x, y, yerr=err, marker="o", ms=3, lw=1, capsize=2, label=label)
            if kind == "power":
                ax.axhline(cfg.section.share, color="grey", ls="--", lw=1)
            s = summary[d]
            if math.isfinite(s["cost"]):
                ax.axvline(s["cost"], color="black", lw=1, ls=":")
            ax.set_title(f"{d}{' (chosen)' if s['chosen'] else ''}", fontsize=10)
            ax.set_xlabel("cost")
            ax.legend(fontsize=6, loc="upper right" if kind == "rmse" else "lower right")
        axes[row][0].set_ylabel("power (share of samples)" if kind == "power"
                                else "RMSE against the census value")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()


def manifest(run: PlanRun, frame: pd.DataFrame) -> dict[str, Any]:
    """plan.json: how the result was obtained."""
    cfg = run.cfg
    first = cfg.cells[0].cfg
    return {
        "name": first.experiment.file.experiment.name,
        "config": cfg.raw, "config_source": cfg.source, "config_hash": cfg.config_hash,
        "root_seed": first.experiment.root_seed, "unit": first.experiment.unit_name,
        "seeds": f"replication r at value v: rng_for(root_seed, {STREAM!r}, v, r); "
                 "population: rng_for(root_seed, 'population', 0)",
        "designs": cfg.designs, "scenarios": cfg.scenarios,
        "costs": {d: cfg.costs[d].model_dump() for d in cfg.designs},
        "solver": cfg.section.solver.model_dump(),
        "check_replications": cfg.check_replications,
        "replications_computed": run.computed, "seconds": run.seconds, "backend": run.backend,
        "versions": package_versions(),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def write_outputs(run: PlanRun, out: str | Path) -> dict[str, Path]:
    """Render everything, then write each file atomically into ``out``."""
    frame = plan_frame(run)
    texts = {
        "plan.csv": frame.to_csv(index=False),
        "probes.csv": probes_frame(run).to_csv(index=False),
        "plan.json": json.dumps(manifest(run, frame), indent=2, default=str) + "\n",
        "report.md": report_md(run, frame),
    }
    png = figure_png(run)
    return write_files(out, {**texts, "cost_power.png": png})
