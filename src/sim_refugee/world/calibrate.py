"""Calibration: intercepts such that the EXPECTED paper-design sample (or the population)
reproduces the documented margins.

Expected sample margin of y = sum_i omega_i y_i with omega_i = pi_i / n, pi_i the
inclusion probability of person i in the paper design at sample size n (WorldConfig.
calibration_n, default the paper's 1,346): site quotas, then successive sampling
proportional to reach within site, pi_i = 1 - exp(-lam_s reach_i)
(``reach.expected_sample_weights``; checked against repeated large-n draws). With n
None (or a population with fewer than 2n reachable people) the n << N limit
omega_i = quota_s reach_i / sum_{j in s} reach_j is used.
Because reach depends on variables the calibration changes (distress, years in China,
urban residence, ...), the solve is a fixed point: with omega held, every block's
intercepts are solved exactly in causal order (weighted quantiles; multinomial constants
by the share update), omega is recomputed from the new population, and so on until
every margin is within ``calibration_tol`` under its own omega (Gauss-Seidel, first on a
25,000-person prefix, then 2-3 sweeps on everyone).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim_refugee.errors import UserInputError
from sim_refugee.targets import paper_margins
from sim_refugee.world.extras import (
    ALL_CATEGORIES,
    EXTRA_COLUMNS,
    NOT_ASKED,
    extra_targets,
    implied_values,
    initial_extra_theta,
    simulate_extras,
)
from sim_refugee.world.model import (
    ITEMS,
    Cols,
    initial_theta,
    simulate,
)
from sim_refugee.world.reach import (
    SITES,
    ReachParams,
    expected_sample_weights,
    reach_propensity,
    site_codes,
)

MAX_SWEEPS = 40
#: calibrate first on this many people (any prefix of iid noise is a random subsample),
#: then refine on everyone from that warm start: 2-3 full sweeps instead of ~8
WARM_START_SIZE = 25_000
#: documented margins implied by others (gender splits); reported, not solved for
CHECK_ONLY = ("over_three_years", "camp_total")


class CalibrationError(UserInputError):
    """Calibration cannot reach the targets (e.g. selection too strong for a margin)."""


@dataclass
class MarginSpec:
    """One calibrated margin: share of ``variable == level`` in ``group``, or a median."""

    name: str
    variable: str
    level: object
    group: str
    kind: str
    value: float
    documented: bool
    source: str = ""
    solved: bool = True  # False: a check implied by other targets (not solved for)
    bound: str = ""  # "min": the paper says "more than" value; "max": "fewer than"
    paper: float | None = None  # the printed number (the bound itself where there is one)
    among: tuple[str, tuple] | None = None  # denominator: rows whose ``variable`` is in levels

    @property
    def extra(self) -> bool:
        """A variable of ``world.extras`` (solved after the sweeps; never fails them)."""
        return self.variable in EXTRA_COLUMNS


@dataclass
class CalibrationResult:
    mode: str
    converged: bool
    sweeps: int
    max_error: float
    theta: dict
    specs: list[MarginSpec] = field(default_factory=list)
    table: pd.DataFrame | None = None
    sample_n: int | None = None  # the n the expected sample was computed at (None: limit)


def margin_specs(a: dict, overrides: dict[str, float] | None = None) -> list[MarginSpec]:
    """Documented margins (paper.yaml, with overrides) and assumed sample margins."""
    overrides = overrides or {}
    specs = []
    for row in paper_margins().to_dict("records"):
        level = _clean(row.get("level"))
        bound = _clean(row.get("bound")) or ""
        assumption = _clean(row.get("assumption"))
        among = _clean(row.get("among"))
        value = float(overrides.get(row["name"], row["value"]))
        if assumption is not None and row["name"] not in overrides:
            value = float(a[assumption])
            printed = float(row["value"])
            if (bound == "min" and value <= printed) or (bound == "max" and value >= printed):
                raise UserInputError(
                    f"assumption {assumption!r} = {value} breaks the paper's bound for "
                    f"{row['name']!r} ({'more' if bound == 'min' else 'less'} than {printed})",
                    key=f"assumptions.{assumption}")
        specs.append(MarginSpec(
            row["name"], row["variable"], tuple(level) if isinstance(level, list) else level,
            row["group"], row["kind"], value, True, row["source"],
            row["name"] not in CHECK_ONLY and not bool(_clean(row.get("check"))), bound,
            float(row["value"]),
            None if among is None else (among["variable"], tuple(among["levels"]))))
    implied = implied_values({s.name: s.value for s in specs}, a)
    for s in specs:  # a check's target is what the world implies (the printed number: paper)
        if s.name in implied and not s.solved:
            s.value = float(implied[s.name])
    add = [
        ("province_ryanggang", "province", "ryanggang", "all", a["province.share.ryanggang"]),
        ("province_pyongyang", "province", "pyongyang", "all", a["province.share.pyongyang"]),
        ("urban_origin", "urban_origin", 1, "all", a["urban_origin.share"]),
        ("occ_trader", "occupation", "trader", "all", a["occupation.share.trader"]),
        ("occ_student", "occupation", "student", "all", a["occupation.share.student"]),
        ("occ_other_job", "occupation", "other", "all", a["occupation.share.other_job"]),
        ("camp_men", "camp", 1, "male", a["camp.share_men"]),
        ("camp_women", "camp", 1, "female", a["camp.share_women"]),
        ("urban_china", "urban_china", 1, "all", a["urban_china.share"]),
        ("church_tie", "church_tie", 1, "all", a["church_tie.share"]),
        ("children", "children", 1, "all", a["children.share"]),
    ]
    for it in ITEMS:
        for k, p in enumerate(a[f"items.{it}.shares"]):
            add.append((f"{it}_{k + 1}", it, k + 1, "all", p))
    for name, var, level, group, val in add:
        specs.append(MarginSpec(name, var, level, group, "share", float(val), False,
                                "assumption (targets/assumptions.yaml)"))
    return specs


def _clean(x):
    """None for a yaml field a margin does not have (NaN in the frame)."""
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return None
    return x


def solver_targets(specs: list[MarginSpec], a: dict) -> dict:
    """The targets in the shape ``model.simulate`` solves for."""
    v = {s.name: s.value for s in specs}
    prov = [v["province_north_hamgyong"], v["province_south_hamgyong"],
            v["province_ryanggang"], v["province_pyongyang"]]
    occ = [v["occ_worker"], v["occ_farmer"], v["occ_trader"], v["occ_student"]]
    dest = [v["dest_south_korea"], v["dest_united_states"], v["dest_china"],
            v["dest_north_korea"]]
    t = {
        "female": v["female"], "median_age": v["median_age"],
        "province": np.array(prov + [1.0 - sum(prov)]),
        "urban_origin": v["urban_origin"],
        "educ": (v["educ_elementary"], v["educ_secondary"], v["educ_postsecondary"]),
        "occupation": np.array(occ + [1.0 - sum(occ)]),
        "death_men": v["death_men"], "death_women": v["death_women"],
        "foodaid": v["foodaid"], "family_missing": v["family_missing"],
        "camp_men": v["camp_men"], "camp_women": v["camp_women"], "arrest": v["arrest"],
        "spells_men": _spells(a["years.spells_men"], v["over_three_years_men"], "men"),
        "spells_women": _spells(a["years.spells_women"], v["over_three_years_women"], "women"),
        "trafficking": v["trafficking"], "urban_china": v["urban_china"],
        "korean_chinese_host": v["korean_chinese_host"], "church_tie": v["church_tie"],
        "children": v["children"], "job": v["employed"],
        "dest": np.array(dest + [1.0 - sum(dest)]),
    }
    for it in ITEMS:
        t[it] = np.array([v[f"{it}_{k}"] for k in range(1, 5)])
    for key in ("province", "occupation", "dest"):
        if t[key][-1] <= 0:
            raise UserInputError(f"targets for {key} sum to more than 1", key=f"targets.{key}")
    return t


def _spells(low: list[float], over3: float, who: str) -> np.ndarray:
    """Table 1's five spell shares of one gender: the assumed <6m, 6-12m, 1-2y shares,
    2-3y the rest, >3y the documented margin."""
    rest = 1.0 - sum(low) - over3
    if min(low) <= 0 or rest <= 0:
        raise UserInputError(
            f"assumption years.spells_{who} {low} leaves no 2-3 year share with "
            f"{over3} over three years", key=f"assumptions.years.spells_{who}")
    return np.array([*low, rest, over3])


def evaluate_margins(cols: Cols | pd.DataFrame, w: np.ndarray, specs: list[MarginSpec]) -> np.ndarray:
    """The ``w``-weighted value of every margin (shares in groups; weighted medians).

    Works on the generator's integer-coded columns (one bincount per variable over
    level x gender)
    and on a population frame with string labels.
    """
    female = np.asarray(cols["female"]).astype(bool)
    masks = {"all": slice(None), "female": female, "male": ~female}
    sums = {g: float(np.sum(w[m])) for g, m in masks.items()}
    cache: dict[str, np.ndarray] = {}
    out = np.empty(len(specs))
    for i, s in enumerate(specs):
        x = np.asarray(cols[s.variable])
        m = masks[s.group]
        if s.among is not None or isinstance(s.level, tuple) or s.variable in EXTRA_COLUMNS:
            out[i] = _conditional_share(cols, w, s, m)
            continue
        if s.kind == "median":
            xs, ww = x[m].astype(float), w[m]
            order = np.argsort(xs, kind="stable")
            cw = np.cumsum(ww[order])
            out[i] = xs[order][np.searchsorted(cw, 0.5 * cw[-1])]
            continue
        if np.issubdtype(x.dtype, np.integer):
            level = s.level
            if s.variable in ALL_CATEGORIES:
                level = ALL_CATEGORIES[s.variable].index(level)
            if s.variable not in cache:  # one pass per variable: weight by (level, gender)
                levels = int(x.max()) + 1 if len(x) else 1
                cache[s.variable] = np.bincount(
                    x.astype(np.int64) * 2 + female, weights=w,
                    minlength=2 * levels).reshape(-1, 2)
            counts = cache[s.variable]
            if level >= len(counts):
                out[i] = 0.0
            else:
                c = counts[level]
                num = c.sum() if s.group == "all" else c[1 if s.group == "female" else 0]
                out[i] = num / sums[s.group]
        else:
            out[i] = np.sum(w[m], where=x[m] == s.level) / sums[s.group]
    return out


def _level_mask(x: np.ndarray, variable: str, levels) -> np.ndarray:
    """Rows of ``x`` (integer codes or labels) at one of ``levels`` (labels or codes)."""
    levels = levels if isinstance(levels, tuple) else (levels,)
    cats = ALL_CATEGORIES.get(variable)
    if cats is not None and np.issubdtype(x.dtype, np.integer):
        levels = tuple(cats.index(lv) for lv in levels)
    return np.isin(x, np.asarray(levels, dtype=x.dtype if x.dtype != object else object))


def _conditional_share(cols, w: np.ndarray, s: MarginSpec, group) -> float:
    """The w-weighted share of ``s.level`` among the rows asked (not NOT_ASKED) and in
    ``s.among`` (the slow path, for the variables of ``world.extras``)."""
    x = np.asarray(cols[s.variable])
    den = np.ones(len(x), bool)
    den[~np.asarray(group if not isinstance(group, slice) else np.ones(len(x), bool))] = False
    cats = ALL_CATEGORIES.get(s.variable, ())
    if NOT_ASKED in cats:
        den &= ~_level_mask(x, s.variable, NOT_ASKED)
    if s.among is not None:
        den &= _level_mask(np.asarray(cols[s.among[0]]), s.among[0], s.among[1])
    total = float(np.sum(w, where=den))
    if total <= 0:
        return float("nan")
    return float(np.sum(w, where=den & _level_mask(x, s.variable, s.level))) / total


def site_quotas(a: dict) -> dict[str, float]:
    """Interview quota share of each site (assumption site.share.<site>)."""
    return {s: float(a[f"site.share.{s}"]) for s in SITES}


def sample_weights(cols: Cols | pd.DataFrame, reach: ReachParams, a: dict,
                   n: int | None = None) -> np.ndarray:
    """omega: each person's share of the expected paper-design sample of size n
    (None: the n << catchment limit). A population too small for n (fewer than 2n
    reachable people) uses the limit formula instead: see ``effective_sample_n``."""
    r = reach_propensity(cols, reach)
    n = effective_sample_n(r, cols["home_site"], n)
    return expected_sample_weights(r, cols["home_site"], site_quotas(a), n)


def effective_sample_n(reach: np.ndarray, home_site, n: int | None) -> int | None:
    """n, or None (the n << N limit) when fewer than 2n people are reachable: a tiny
    test population cannot hold the paper's 1,346 interviews as a sample of itself."""
    if n is None:
        return None
    reachable = int(np.count_nonzero((reach > 0) & (site_codes(home_site) >= 0)))
    return n if reachable >= 2 * n else None


def calibrate(
    z: Cols, a: dict, effects: str, mode: str, reach: ReachParams,
    overrides: dict[str, float] | None = None, tol: float = 1e-3, sample_n: int | None = None,
) -> tuple[Cols, CalibrationResult]:
    """Columns of the calibrated population and the calibration record (sample_n: the sample
    size whose expected margins are calibrated; None: the n << N limit)."""
    specs = margin_specs(a, overrides)
    targets = solver_targets(specs, a)
    xtargets = extra_targets({s.name: s.value for s in specs}, a)
    main = [s for s in specs if not s.extra]
    theta = initial_theta()
    n = len(z["female"])
    uniform = np.full(n, 1.0 / n)
    inner = tol / 5

    def with_extras(cols: Cols, w: np.ndarray | None) -> Cols:
        # the new variables read the final columns and move nothing the sweeps solve
        # (nor the paper design's reach): solved once, under the final weights
        theta.update(initial_extra_theta())
        cols.update(simulate_extras(cols, z, a, theta, w, xtargets, inner))
        return cols

    if mode == "none":
        cols = with_extras(simulate(z, a, theta, effects, lambda: None, targets), None)
        return cols, _result(mode, True, 0, cols, theta, specs, reach, a, sample_n)
    if mode == "population":  # weights fixed: one causal-order sweep solves every block
        cols = with_extras(simulate(z, a, theta, effects, lambda: uniform, targets, inner),
                           uniform)
        res = _result(mode, True, 1, cols, theta, specs, reach, a, sample_n)
        tol_eff = max(tol, granularity(uniform))
        res.converged = res.max_error <= tol_eff
        if not res.converged:
            raise _failure(res, reach, tol_eff)
        return cols, res
    if n > 2 * WARM_START_SIZE:
        m = WARM_START_SIZE
        sub = {k: v[:m] for k, v in z.items()}
        u_sub = np.full(m, 1.0 / m)
        sub_cols = simulate(sub, a, theta, effects, lambda: u_sub, targets, inner)
        # the prefix only needs to land near the fixed point: its own sampling noise
        # (~1/sqrt(25,000) ~ 0.006) dwarfs the final tolerance
        n_sub = None if sample_n is None else max(1, round(sample_n * m / n))
        _sample_sweeps(sub, sub_cols, a, theta, effects, targets, main, reach,
                       max(tol, 0.004), inner, n_sub)
        cols = simulate(z, a, theta, effects, lambda: None, targets)
    else:
        cols = simulate(z, a, theta, effects, lambda: uniform, targets, inner)
    cols, sweep, err, omega = _sample_sweeps(z, cols, a, theta, effects, targets, main, reach,
                                             tol, inner, sample_n)
    tol_eff = max(tol, granularity(omega), small_population_floor(omega))
    cols = with_extras(cols, sample_weights(cols, reach, a, sample_n))
    res = _result(mode, err <= tol_eff, sweep, cols, theta, specs, reach, a, sample_n)
    if not res.converged:
        raise _failure(res, reach, tol_eff)
    return cols, res


def _sample_sweeps(z, cols, a, theta, effects, targets, specs, reach, tol, inner, n):
    """Gauss-Seidel sweeps until every solved margin is within tol under its own omega."""
    target_vals = np.array([s.value for s in specs])
    solved = np.array([s.solved for s in specs])
    err = np.inf
    sweep = 0
    while sweep < MAX_SWEEPS:
        sweep += 1
        omega = sample_weights(cols, reach, a, n)
        if omega.sum() <= 0:
            raise CalibrationError("nobody is reachable by the paper design", key="selection")
        err = float(np.max(np.abs(evaluate_margins(cols, omega, specs) - target_vals)[solved]))
        if err <= max(tol, granularity(omega), small_population_floor(omega)):
            break
        cols = simulate(z, a, theta, effects, lambda w=omega: w, targets, inner)
    return cols, sweep, err, omega


def small_population_floor(w: np.ndarray) -> float:
    """Below ~10,000 people the fixed point jitters (each sweep's reach weights move
    margins by single persons); accept half a sampling SE of a share at the Kish
    effective size of the expected sample, 0.5 * 0.5 / sqrt(n_eff). Zero above 10,000."""
    if len(w) >= 10_000:
        return 0.0
    n_eff = w.sum() ** 2 / np.sum(w**2)
    return float(0.25 / np.sqrt(n_eff))


def granularity(w: np.ndarray) -> float:
    """The finest margin a finite population can hit: a share moves in steps of one
    person's weight, and the gender-split margins see about half the weight, so twice the
    largest normalised weight (negligible at the default size: ~1e-4 at 100,000)."""
    return float(2.0 * w.max() / w.sum() * 2.0)


def _result(mode, converged, sweeps, cols, theta, specs, reach, a, n) -> CalibrationResult:
    size = len(cols["female"])
    uniform = np.full(size, 1.0 / size)
    omega = sample_weights(cols, reach, a, n)
    exp_s = evaluate_margins(cols, omega, specs) if omega.sum() > 0 else np.full(len(specs), np.nan)
    pop_m = evaluate_margins(cols, uniform, specs)
    table = pd.DataFrame({
        "name": [s.name for s in specs], "variable": [s.variable for s in specs],
        "level": [s.level for s in specs], "group": [s.group for s in specs],
        "documented": [s.documented for s in specs], "solved": [s.solved for s in specs],
        "target": [s.value for s in specs],
        "expected_sample": exp_s, "population": pop_m, "source": [s.source for s in specs],
        "bound": [s.bound for s in specs],
        "paper": [s.paper if s.paper is not None else np.nan for s in specs],
    })
    ref = table["expected_sample"] if mode == "sample" else table["population"]
    # the new variables of world.extras are reported, not part of convergence: a small
    # world's sub-questions (a few dozen detainees) cannot hit a margin to 0.001
    core = table["solved"] & ~np.array([s.extra for s in specs], dtype=bool)
    gap = np.abs(ref - table["target"])[core]
    max_err = float(np.nanmax(gap)) if mode != "none" else np.nan
    n_used = effective_sample_n(reach_propensity(cols, reach), cols["home_site"], n)
    return CalibrationResult(mode, converged, sweeps, max_err, theta, specs, table, n_used)


def _failure(res: CalibrationResult, reach: ReachParams, tol: float) -> CalibrationError:
    col = "expected_sample" if res.mode == "sample" else "population"
    t = res.table[res.table["solved"] & ~res.table["variable"].isin(EXTRA_COLUMNS)]
    t = t.assign(err=(t[col] - t["target"]).abs())
    worst = t.sort_values("err", ascending=False).head(3)
    what = "; ".join(f"{r.name}: target {r.target:.3f}, got {getattr(r, col):.3f}" for r in worst.itertuples())
    return CalibrationError(
        f"calibration ({res.mode}) did not reach the targets within {tol} after "
        f"{res.sweeps} sweeps under selection {reach.model_dump()}: {what}",
        key="selection",
    )
