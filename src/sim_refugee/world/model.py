"""The structural model of the refugee population, in causal order.

Every draw is made once, up front, from per-block child streams of the population's
SeedSequence (``draw_noise``); the model itself (``simulate``) is a deterministic
function of (noise, assumptions, intercepts). That gives common random numbers across
conditions (changing a coefficient or a selection strength reshuffles nothing) and lets
calibration solve intercepts exactly: with the noise fixed, a binary share is a step
function of its intercept, solved by a weighted quantile (``_wquantile``) instead of a
root finder (hand-written because numpy's quantile takes no weights).

Link functions: probit (unit-variance normal errors) for binaries and for the ordered
education index, the five experiences' errors loading on two correlated latent
exposures; ordered probit with NON-normal (two-component mixture) errors for the
seven Likert items; multinomial logit (Gumbel errors) for province and occupation;
multinomial probit with correlated US/SK errors for the destination; for years in
China a monotone map of a normal index that puts Table 1's five spells at their shares
per gender, with log-normal tails.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np

from sim_refugee.seeds import child_rng
from sim_refugee.world.reach import SITES

ITEMS: tuple[str, ...] = ("anxious", "fear", "fearfamily", "anger", "concentrate", "attain", "hope")
EXPERIENTIAL: tuple[str, ...] = ("foodaid", "camp", "arrest", "trafficking", "death")
T7_REGRESSORS: tuple[str, ...] = EXPERIENTIAL + (
    "female", "age", "elementary", "farmer", "trader", "student", "other_job",
)
PROVINCES: tuple[str, ...] = ("north_hamgyong", "south_hamgyong", "ryanggang", "pyongyang", "other")
OCCUPATIONS: tuple[str, ...] = ("worker", "farmer", "trader", "student", "other")
EDUC: tuple[str, ...] = ("elementary", "secondary", "postsecondary")
DESTS: tuple[str, ...] = ("south_korea", "united_states", "china", "north_korea", "other")
SPELLS: tuple[str, ...] = ("<6m", "6-12m", "1-2y", "2-3y", ">3y")
JOB_REGRESSORS: tuple[str, ...] = (
    "avgpsych", "trafficking", "children", "years_in_china", "female", "northeast", "pyongyang",
    "age_decades", "elementary", "farmer", "trader", "student", "other_job",
)
DEST_REGRESSORS: tuple[str, ...] = (
    "trafficking", "camp", "death", "foodaid", "arrest", "job", "northeast", "age_decades",
    "secondary", "postsecondary", "female", "pyongyang", "farmer", "trader", "student", "other_job",
)
#: circumstances in China that move the destination utilities but are not in Table 9's
#: probits (so they act through their correlation with the printed regressors)
DEST_OMITTED: tuple[str, ...] = ("years_in_china", "children")

#: the experiences whose probit errors load on the famine / persecution latents
EXPOSURES: tuple[str, ...] = ("death", "foodaid", "family_missing", "camp", "arrest", "trafficking")
#: circumstances in China that move the common distress factor (not Table 7 regressors)
DISTRESS_CHANNELS: tuple[str, ...] = (
    "urban_china", "northeast", "korean_chinese_host", "church_tie", "years_in_china",
)

HOME_SITES: tuple[str, ...] = (*SITES, "none")
#: categorical columns: simulate() returns integer codes into these label tuples
CATEGORIES: dict[str, tuple[str, ...]] = {
    "province": PROVINCES, "educ": EDUC, "occupation": OCCUPATIONS, "china_spell": SPELLS,
    "home_site": HOME_SITES, "dest": DESTS,
}

Effects = Literal["paper", "null"]
Cols = dict[str, np.ndarray]
#: weights for solving a block (None: do not solve, use the current intercepts)
Solver = Callable[[], "np.ndarray | None"]


def draw_noise(n: int, seed_seq: np.random.SeedSequence) -> Cols:
    """All random draws of one population, one child stream per causal block."""
    r = child_rng(seed_seq, "demographics")
    z: Cols = {
        "female": r.standard_normal(n),
        "age": r.standard_normal(n),
        "province": r.gumbel(size=(n, len(PROVINCES))),
        "urban_origin": r.standard_normal(n),
        "educ": r.standard_normal(n),
        "occupation": r.gumbel(size=(n, len(OCCUPATIONS))),
    }
    r = child_rng(seed_seq, "exposure")
    for k in ("death", "foodaid", "family_missing", "camp", "arrest", "trafficking"):
        z[k] = r.standard_normal(n)
    # the two latent exposures behind the five experiences (famine severity, persecution)
    z["famine"] = r.standard_normal(n)
    z["persecution"] = r.standard_normal(n)
    r = child_rng(seed_seq, "china")
    for k in ("years", "urban_china", "korean_chinese_host", "church_tie", "children"):
        z[k] = r.standard_normal(n)
    z["site_none"] = r.random(n)
    z["site_pick"] = r.random(n)
    r = child_rng(seed_seq, "distress")
    z["factor"] = r.standard_normal(n)
    z["item_comp"] = r.random((n, len(ITEMS)))
    z["item_z"] = r.standard_normal((n, len(ITEMS)))
    r = child_rng(seed_seq, "job")
    z["job"] = r.standard_normal(n)
    r = child_rng(seed_seq, "dest")
    z["dest"] = r.standard_normal((n, len(DESTS)))
    # the further documented variables (world.extras): their own NEW child streams, so
    # every draw above is unchanged by them
    from sim_refugee.world.extras import draw_extra_noise

    z.update(draw_extra_noise(n, seed_seq))
    return z


def _wquantile(t: np.ndarray, w: np.ndarray, p: float) -> float:
    """The value a with sum(w[t < a]) / sum(w) = p (midpoint between order statistics)."""
    order = np.argsort(t, kind="stable")
    ts, cw = t[order], np.cumsum(w[order])
    total = cw[-1]
    if total <= 0:
        raise ValueError("no weight to calibrate on")
    k = int(np.searchsorted(cw, p * total, side="left"))
    k = min(max(k, 0), len(ts) - 1)
    lo = ts[k]
    hi = ts[k + 1] if k + 1 < len(ts) else ts[k] + 1.0
    return 0.5 * (lo + hi)


def _solve_threshold(t: np.ndarray, w: np.ndarray, p: float, start: float, tol: float) -> float:
    """A value a with |sum(w[t < a]) / sum(w) - p| <= tol, searched from ``start``.

    Warm start first: the exact answer inside a narrow window around ``start`` (the
    previous sweep's value) from a sort of the few people in it; otherwise
    bracket-and-bisect on the step function; finally the exact weighted quantile when
    ``tol`` is finer than the weights allow. (A full sort per solve is the slow part of
    calibration, hence this.)
    """
    total = float(w.sum())
    if total <= 0:
        raise ValueError("no weight to calibrate on")
    tol = max(tol, 2.0 * float(w.max()) / total)  # shares move in steps of one weight

    def share(a: float) -> float:
        return float(np.sum(w, where=t < a)) / total

    h = 0.05
    inside = np.abs(t - start) < h
    below = float(np.sum(w, where=t <= start - h)) / total
    t_in, w_in = t[inside], w[inside]
    if len(t_in) and below - tol <= p <= below + float(w_in.sum()) / total + tol:
        order = np.argsort(t_in, kind="stable")
        ts = t_in[order]
        cw = np.concatenate([[below], below + np.cumsum(w_in[order]) / total])
        j = int(np.argmin(np.abs(cw - p)))  # share just above ts[j-1] (j=0: below ts[0])
        lo_edge = ts[j - 1] if j > 0 else start - h
        hi_edge = ts[j] if j < len(ts) else start + h
        if abs(cw[j] - p) <= tol:
            return 0.5 * (lo_edge + hi_edge)

    s0 = share(start)
    if abs(s0 - p) <= tol:
        return start
    step = 0.25 if s0 < p else -0.25
    a0, a1 = start, start + step
    s1 = share(a1)
    for _ in range(60):
        if (s1 - p) * (s0 - p) <= 0 or abs(s1 - p) <= tol:
            break
        a0, s0 = a1, s1
        step *= 2.0
        a1 = a1 + step
        s1 = share(a1)
    lo, hi = (a0, a1) if a0 < a1 else (a1, a0)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        sm = share(mid)
        if abs(sm - p) <= tol:
            return mid
        if sm < p:
            lo = mid
        else:
            hi = mid
    return _wquantile(t, w, p)


def _solve_binary(
    index: np.ndarray, e: np.ndarray, w: np.ndarray, p: float, start: float, tol: float
) -> float:
    """Intercept a such that the w-weighted share of 1{a + index + e > 0} is p (+-tol)."""
    return _solve_threshold(-(index + e), w, p, start, tol)


def _solve_multinomial(
    util: np.ndarray, w: np.ndarray, targets: np.ndarray, alpha: np.ndarray, tol: float,
    step: float = 1.0,
) -> np.ndarray:
    """Alternative-specific constants so that w-weighted argmax shares hit ``targets``.

    Fixed-point iteration alpha_k += step * log(target_k / share_k) (the classic ASC
    update of logit market-share calibration; ``step`` < 1 damps it for normal errors,
    whose shares react more steeply to a constant than Gumbel errors' do); util holds
    everything except the constants.
    """
    alpha = alpha.copy()
    wt = w / w.sum()
    tol = max(tol, 2.0 * float(wt.max()))  # shares move in steps of one person's weight
    best_err, best, stall = np.inf, alpha.copy(), 0
    for _ in range(600):
        choice = np.argmax(util + alpha, axis=1)
        share = np.bincount(choice, weights=wt, minlength=len(alpha))
        err = float(np.max(np.abs(share - targets)))
        if err < tol:
            return alpha
        if err < best_err:
            best_err, best, stall = err, alpha.copy(), 0
        else:  # shares are step functions of the constants: a full step can cycle
            stall += 1
            if stall >= 10:
                step, stall, alpha = step / 2.0, 0, best.copy()
        alpha += step * np.log(np.maximum(targets, 1e-12) / np.maximum(share, 1e-6))
        alpha -= alpha[0]
    return best


def _mixture_errors(comp: np.ndarray, z: np.ndarray, a: dict, sd: float) -> np.ndarray:
    """Standardised two-component normal mixture (mean 0, sd ``sd``): skewed item errors."""
    pi = a["distress.error.mix_weight"]
    shift = a["distress.error.mix_shift"]
    ratio = a["distress.error.mix_sd_ratio"]
    second = comp < pi
    x = np.where(second, shift + ratio * z, z)
    mean = pi * shift
    var = (1 - pi) + pi * ratio**2 + pi * (1 - pi) * shift**2
    return (x - mean) / np.sqrt(var) * sd


def _exposure_error(z: Cols, a: dict, name: str) -> np.ndarray:
    """The unit-variance probit error of experience ``name``: loadings on the famine
    and persecution latents (correlated ``exposure.corr``) plus its own noise."""
    rho = a["exposure.corr"]
    lf, lp = a[f"exposure.{name}.famine"], a[f"exposure.{name}.persecution"]
    shared = lf**2 + lp**2 + 2.0 * rho * lf * lp
    if shared >= 1.0:
        raise ValueError(f"exposure loadings of {name!r} leave no own variance "
                         f"(shared variance {shared:.3f} >= 1)")
    persec = rho * z["famine"] + np.sqrt(1.0 - rho**2) * z["persecution"]
    return lf * z["famine"] + lp * persec + np.sqrt(1.0 - shared) * z[name]


def _dest_errors(zd: np.ndarray, rho: float) -> np.ndarray:
    """Standard-normal utility errors with corr(US, SK) = rho (columns follow DESTS)."""
    e = zd.copy()
    e[:, 0] = rho * zd[:, 1] + np.sqrt(1.0 - rho**2) * zd[:, 0]
    return e


def dest_utilities(c: Cols, zd: np.ndarray, a: dict) -> np.ndarray:
    """Destination utilities without the constants (columns follow DESTS)."""
    util = _dest_errors(zd, a["dest.error_corr_us_sk"])
    for r in DEST_REGRESSORS + DEST_OMITTED:
        x = c[r].astype(float)
        util[:, 1] += a[f"dest.us.{r}"] * x
        util[:, 0] += a[f"dest.sk.{r}"] * x
    return util


def solve_dest_constants(util: np.ndarray, w: np.ndarray, start: np.ndarray, target: np.ndarray,
                         tol: float = 2e-4) -> np.ndarray:
    """Destination constants whose w-weighted choice shares hit ``target``."""
    return _solve_multinomial(util, w, target, start, tol, step=0.5)


def t7_coefficients(a: dict, effects: Effects) -> dict[str, np.ndarray]:
    """Regressor -> 7 item coefficients (latent scale); experiential ones 0 under 'null'."""
    out = {}
    for reg in T7_REGRESSORS:
        vals = np.array([a[f"t7.{reg}.{it}"] for it in ITEMS])
        if effects == "null" and reg in EXPERIENTIAL:
            vals = np.zeros_like(vals)
        out[reg] = vals
    return out


def simulate(
    z: Cols,
    a: dict,
    theta: dict,
    effects: Effects,
    weights: Callable[[], np.ndarray | None],
    targets: dict,
    tol: float = 1e-4,
) -> Cols:
    """Build every column in causal order.

    ``theta`` holds the intercepts/thresholds/constants; when ``weights()`` returns an
    array, each block first re-solves its entries of ``theta`` so that the
    ``weights``-weighted margin hits ``targets`` (calibration), else uses them as they are.
    """
    n = len(z["female"])
    c: Cols = {}

    def solve_b(name: str, index: np.ndarray, e: np.ndarray, key: str, mask=None) -> None:
        w = weights()
        if w is None or key not in targets:
            return
        if mask is not None:
            theta[name] = _solve_binary(index[mask], e[mask], w[mask], targets[key],
                                        theta[name], tol)
        else:
            theta[name] = _solve_binary(index, e, w, targets[key], theta[name], tol)

    # ---------------- demographics ----------------
    solve_b("female", np.zeros(n), z["female"], "female")
    c["female"] = (theta["female"] + z["female"] > 0).astype(np.int8)
    female = c["female"].astype(bool)

    w = weights()
    if w is not None and "median_age" in targets:
        theta["age"] = targets["median_age"] + 0.5 - _wquantile(a["age.sd"] * z["age"], w, 0.5)
        # (age's noise does not depend on other intercepts: one sort per sweep is cheap)
    age = np.floor(theta["age"] + a["age.sd"] * z["age"])
    c["age"] = np.clip(age, a["age.min"], a["age.max"]).astype(np.int16)
    c["age_decades"] = c["age"] / a["age.scale"]

    if w is not None and "province" in targets:
        theta["province"] = _solve_multinomial(
            z["province"], w, targets["province"], theta["province"], tol)
    prov = np.argmax(z["province"] + theta["province"], axis=1)
    c["province"] = prov.astype(np.int8)
    c["northeast"] = (prov <= 2).astype(np.int8)
    c["pyongyang"] = (prov == 3).astype(np.int8)

    idx = a["urban_origin.pyongyang"] * c["pyongyang"]
    solve_b("urban_origin", idx, z["urban_origin"], "urban_origin")
    c["urban_origin"] = (theta["urban_origin"] + idx + z["urban_origin"] > 0).astype(np.int8)

    ed = (a["educ.urban_origin"] * c["urban_origin"] + a["educ.age_decades"] * c["age_decades"]
          + a["educ.pyongyang"] * c["pyongyang"] + a["educ.female"] * c["female"] + z["educ"])
    w = weights()
    if w is not None and "educ" in targets:
        p_el, p_sec, _ = targets["educ"]
        th = theta["educ"]
        theta["educ"] = np.array([_solve_threshold(ed, w, p_el, th[0], tol),
                                  _solve_threshold(ed, w, p_el + p_sec, th[1], tol)])
    e_code = (ed > theta["educ"][0]).astype(int) + (ed > theta["educ"][1]).astype(int)
    c["educ"] = e_code.astype(np.int8)
    c["elementary"] = (e_code == 0).astype(np.int8)
    c["secondary"] = (e_code == 1).astype(np.int8)
    c["postsecondary"] = (e_code == 2).astype(np.int8)

    u_occ = z["occupation"].copy()
    u_occ[:, 1] += a["occupation.farmer.urban_origin"] * c["urban_origin"]
    u_occ[:, 3] += a["occupation.student.age_decades"] * (c["age_decades"] - 3.8)
    u_occ[:, 2] += a["occupation.trader.female"] * c["female"]
    w = weights()
    if w is not None and "occupation" in targets:
        theta["occupation"] = _solve_multinomial(
            u_occ, w, targets["occupation"], theta["occupation"], tol)
    occ = np.argmax(u_occ + theta["occupation"], axis=1)
    c["occupation"] = occ.astype(np.int8)
    c["farmer"] = (occ == 1).astype(np.int8)
    c["trader"] = (occ == 2).astype(np.int8)
    c["student"] = (occ == 3).astype(np.int8)
    c["other_job"] = (occ == 4).astype(np.int8)

    # ---------------- famine and regime exposure ----------------
    # Each experience's probit error loads on two correlated latent exposures (famine
    # severity F, persecution P; assumptions exposure.*), so the experiences correlate
    # as the paper's Table 9 P(1) pattern implies (camp and death lose significance
    # once the other experiences are in); the loadings keep every error's variance 1.
    e = {k: _exposure_error(z, a, k) for k in EXPOSURES}
    idx = a["death.northeast"] * c["northeast"] + a["death.urban_origin"] * c["urban_origin"]
    solve_b("death_m", idx, e["death"], "death_men", ~female)
    solve_b("death_f", idx, e["death"], "death_women", female)
    c["death"] = (np.where(female, theta["death_f"], theta["death_m"]) + idx + e["death"] > 0
                  ).astype(np.int8)

    idx = (a["foodaid.urban_origin"] * c["urban_origin"]
           + a["foodaid.above_elementary"] * (1 - c["elementary"]))
    solve_b("foodaid", idx, e["foodaid"], "foodaid")
    c["foodaid"] = (theta["foodaid"] + idx + e["foodaid"] > 0).astype(np.int8)

    idx = a["family_missing.northeast"] * c["northeast"]
    solve_b("family_missing", idx, e["family_missing"], "family_missing")
    c["family_missing"] = (theta["family_missing"] + idx + e["family_missing"] > 0).astype(np.int8)

    idx = (a["camp.age_decades"] * c["age_decades"]
           + a["camp.above_elementary"] * (1 - c["elementary"]))
    solve_b("camp_m", idx, e["camp"], "camp_men", ~female)
    solve_b("camp_f", idx, e["camp"], "camp_women", female)
    c["camp"] = (np.where(female, theta["camp_f"], theta["camp_m"]) + idx + e["camp"] > 0
                 ).astype(np.int8)

    idx = a["arrest.camp"] * c["camp"] + a["arrest.age_decades"] * c["age_decades"]
    solve_b("arrest_m", idx, e["arrest"], "arrest", ~female)
    solve_b("arrest_f", idx, e["arrest"], "arrest", female)
    c["arrest"] = (np.where(female, theta["arrest_f"], theta["arrest_m"]) + idx + e["arrest"] > 0
                   ).astype(np.int8)

    # ---------------- the China spell ----------------
    # Years in China: a monotone map of the index (age effect + noise) whose four
    # thresholds per gender put Table 1's five spells at their shares (the >3y share is
    # the documented margin, the others assumptions inside Table 1's decoded ranges);
    # log years is linear in the index between the spell edges (6 months, 1, 2, 3 years)
    # and continues with slope 1 below 6 months and above 3 years (the log-normal's tails).
    idx = a["years.age_decades"] * (c["age_decades"] - 3.8) + a["years.sigma"] * z["years"]
    w = weights()
    if w is not None and "spells_men" in targets:
        for g, m, key in (("spells_m", ~female, "spells_men"), ("spells_f", female,
                                                                "spells_women")):
            cum = np.cumsum(targets[key])[:4]
            theta[g] = np.array([_solve_threshold(idx[m], w[m], p, theta[g][k], tol)
                                 for k, p in enumerate(cum)])
    edges = np.log(np.array([0.5, 1.0, 2.0, 3.0]))
    log_years = np.empty(n)
    for g, m in (("spells_m", ~female), ("spells_f", female)):
        th = np.maximum.accumulate(np.asarray(theta[g], dtype=float))
        x = idx[m]
        mid = np.interp(x, th, edges)
        log_years[m] = np.where(x < th[0], edges[0] + (x - th[0]),
                                np.where(x > th[3], edges[3] + (x - th[3]), mid))
    years = np.exp(log_years)
    c["years_in_china"] = np.clip(years, 1.0 / 52.0, a["years.max"])
    c["china_spell"] = np.searchsorted(
        np.array([0.5, 1.0, 2.0, 3.0]), c["years_in_china"], side="right").astype(np.int8)

    yrs = c["years_in_china"]
    idx = a["trafficking.female"] * c["female"] + a["trafficking.years_in_china"] * yrs
    solve_b("trafficking", idx, e["trafficking"], "trafficking")
    c["trafficking"] = (theta["trafficking"] + idx + e["trafficking"] > 0).astype(np.int8)

    idx = a["urban_china.urban_origin"] * c["urban_origin"] + a["urban_china.years_in_china"] * yrs
    solve_b("urban_china", idx, z["urban_china"], "urban_china")
    c["urban_china"] = (theta["urban_china"] + idx + z["urban_china"] > 0).astype(np.int8)

    idx = a["korean_chinese_host.female"] * c["female"]
    solve_b("korean_chinese_host", idx, z["korean_chinese_host"], "korean_chinese_host")
    c["korean_chinese_host"] = (theta["korean_chinese_host"] + idx + z["korean_chinese_host"] > 0
                                ).astype(np.int8)

    idx = a["church_tie.years_in_china"] * yrs
    solve_b("church_tie", idx, z["church_tie"], "church_tie")
    c["church_tie"] = (theta["church_tie"] + idx + z["church_tie"] > 0).astype(np.int8)

    idx = (a["children.female"] * c["female"] + a["children.years_in_china"] * yrs
           + a["children.age_decades"] * c["age_decades"])
    solve_b("children", idx, z["children"], "children")
    c["children"] = (theta["children"] + idx + z["children"] > 0).astype(np.int8)

    # site catchment: outside every catchment with a probability depending on urban_china
    p_none = np.where(c["urban_china"] == 1, a["site.none_urban"], a["site.none_rural"])
    shares = np.array([a[f"site.share.{s}"] for s in SITES])
    cum = np.cumsum(shares / shares.sum())
    pick = np.minimum(np.searchsorted(cum, z["site_pick"], side="right"), len(SITES) - 1)
    pick[z["site_none"] < p_none] = len(SITES)  # "none"
    c["home_site"] = pick.astype(np.int8)

    # ---------------- psychological state ----------------
    # ystar_j = lam * common + sum_r beta_rj x_r + eps_j; the common factor holds the
    # factor noise, family separation (the instrument's relevance) and the distress
    # channels: circumstances in China that are NOT Table 7 regressors but move distress
    # (assumptions distress.<channel>), which is what lets the paper design's selection
    # on them bias Table 7.
    beta = t7_coefficients(a, effects)
    lam = a["distress.loading"]
    x_t7 = {r: (c["age_decades"] if r == "age" else c[r]).astype(float) for r in T7_REGRESSORS}
    common = z["factor"] + a["distress.family_missing"] * c["family_missing"]
    for ch in DISTRESS_CHANNELS:
        common = common + a[f"distress.{ch}"] * c[ch].astype(float)
    d_raw = common.copy()
    for r in T7_REGRESSORS:
        d_raw = d_raw + (beta[r].mean() / lam) * x_t7[r]
    c["distress"] = (d_raw - d_raw.mean()) / d_raw.std()
    eps = _mixture_errors(z["item_comp"], z["item_z"], a, np.sqrt(max(1.0 - lam**2, 1e-9)))
    w = weights()
    item_sum = np.zeros(n)
    for j, it in enumerate(ITEMS):
        ystar = lam * common + eps[:, j]
        for r in T7_REGRESSORS:
            ystar = ystar + beta[r][j] * x_t7[r]
        if w is not None and it in targets:
            cum_p = np.cumsum(targets[it])[:3]
            old = theta[f"tau.{it}"]
            theta[f"tau.{it}"] = np.array(
                [_solve_threshold(ystar, w, p, old[k], tol) for k, p in enumerate(cum_p)])
        tau = theta[f"tau.{it}"]
        y = 1 + (ystar > tau[0]).astype(np.int8) + (ystar > tau[1]) + (ystar > tau[2])
        c[it] = y.astype(np.int8)
        item_sum += y
    c["avgpsych"] = item_sum / len(ITEMS)

    # ---------------- employment (avgpsych endogenous) ----------------
    rho = a["job.error_corr"]
    v = rho * z["factor"] + np.sqrt(1 - rho**2) * z["job"]
    idx = sum(a[f"job.{r}"] * c[r].astype(float) for r in JOB_REGRESSORS)
    solve_b("job", idx, v, "job")
    c["job"] = (theta["job"] + idx + v > 0).astype(np.int8)

    # ---------------- preferred destination ----------------
    # Multinomial probit: one utility per destination, normal errors, the US and South
    # Korea errors correlated (dest.error_corr_us_sk): no IIA, so the US and SK probits
    # of Table 9 can show the separate patterns the paper prints.
    util = dest_utilities(c, z["dest"], a)
    w = weights()
    if w is not None and "dest" in targets:
        theta["dest"] = solve_dest_constants(util, w, theta["dest"], targets["dest"], tol)
    dest = np.argmax(util + theta["dest"], axis=1)
    c["dest"] = dest.astype(np.int8)
    c["prefer_sk"] = (dest == 0).astype(np.int8)
    c["prefer_us"] = (dest == 1).astype(np.int8)
    return c


def initial_theta() -> dict:
    """Starting intercepts (overwritten by calibration; used as-is with calibration='none')."""
    th: dict = {k: 0.0 for k in (
        "female", "urban_origin", "death_m", "death_f", "foodaid", "family_missing", "camp_m",
        "camp_f", "arrest_m", "arrest_f", "trafficking", "urban_china", "korean_chinese_host",
        "church_tie", "children", "job")}
    th["age"] = 38.5
    th["province"] = np.zeros(len(PROVINCES))
    th["occupation"] = np.zeros(len(OCCUPATIONS))
    th["dest"] = np.zeros(len(DESTS))
    th["educ"] = np.array([-0.15, 1.9])
    th["spells_m"] = th["spells_f"] = np.array([-1.2, -0.6, 0.0, 0.5])
    for it in ITEMS:
        th[f"tau.{it}"] = np.array([-1.2, -0.3, 0.7])
    return th
