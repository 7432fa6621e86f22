"""The paper's further documented numbers: variables that no model of the paper uses.

Reasons for leaving, help with leaving and in China, living arrangements, awareness of
food aid and beliefs about where it went, the main reason for anxiety (Table 4), why an
adult family member is missing (Table 5 panel B), separation from children, what the
detained witnessed (Table 6), family still in North Korea, voluntary returns and their
reasons, repatriation, plans to return, wages, the two psychological items of Tables 2-3
that Table 7 leaves out, and the split of the "other" destination (Table 8).

Two rules keep every existing column of a world bit-identical:
- every draw comes from its own NEW child stream of the population's SeedSequence
  (``draw_extra_noise``; block names ``extra.<block>``), so the existing streams are
  untouched;
- these variables READ existing columns (gender, occupation, camp, ...) but nothing
  existing reads them, and none of them moves the paper design's reach. So they are
  solved once, after the margin calibration has converged, under its final weights
  (the expected paper-design sample, or the population): their margins are exact and
  the existing calibration runs exactly as before.

Questions asked only of a subgroup (the detained, the separated, those who returned...)
are categorical with the level ``NOT_ASKED`` outside it: a population has no missing
values, and the descriptive tables count ``NOT_ASKED`` as not valid (the paper's
sub-question totals are the subgroup's).
"""

from __future__ import annotations

import numpy as np

from sim_refugee.seeds import child_rng
from sim_refugee.world.model import (
    CATEGORIES,
    Cols,
    _solve_multinomial,
    _solve_threshold,
)

NOT_ASKED = "n/a"
NO_YES: tuple[str, ...] = ("no", "yes", NOT_ASKED)

#: ordinal items of Tables 2-3 that Table 7 does not model (coded 1..4 like ITEMS)
EXTRA_ITEMS: tuple[str, ...] = ("badthings", "unsure_future")
#: the detainees' answers of Table 6 (sub-questions of 'sent to labour camp')
WITNESS: tuple[str, ...] = (
    "witness_executions", "witness_starvation", "witness_torture_death",
    "witness_infanticide", "believe_experiments",
)
#: yes/no answers asked of those aware of food aid (multiple answers allowed)
AID_BELIEFS: tuple[str, ...] = ("aid_military", "aid_officials")

EXTRA_CATEGORIES: dict[str, tuple[str, ...]] = {
    "leave_reason": ("economic", "political", "other"),
    "help_paid": NO_YES,
    "living": ("korean_chinese", "missionaries", "mountains_street", "other"),
    "aid_status": ("unaware", "excluded", "beneficiary"),
    **{k: NO_YES for k in AID_BELIEFS},
    "anxiety_reason": ("arrest", "hunger", "home", "family", "other"),
    "family_missing_why": ("speaking", "traveling", "crossing", "stealing", "dont_know",
                           NOT_ASKED),
    "children_separation_why": ("left_in_nk", "died", "other", NOT_ASKED),
    **{k: NO_YES for k in WITNESS},
    "return_reason": ("money", "food", "other", NOT_ASKED),
    "repatriations": ("none", "once", "twice", "3+"),
    "wage": ("fair", "little", "none"),
    "dest_detail": ("south_korea", "united_states", "china", "north_korea", "russia", "japan",
                    "others"),
}
#: every categorical column of a population, existing and new (codes -> labels)
ALL_CATEGORIES: dict[str, tuple[str, ...]] = {**CATEGORIES, **EXTRA_CATEGORIES}
EXTRA_BINARY: tuple[str, ...] = (
    "help_leaving", "help_ngo", "help_korean_chinese", "children_separated", "family_in_nk",
    "returned_nk", "plan_return",
)
#: every new column, in the order the population frame lists them
EXTRA_COLUMNS: tuple[str, ...] = (
    "leave_reason", "help_leaving", "help_paid", "help_ngo", "help_korean_chinese", "living",
    "aid_status", *AID_BELIEFS, "anxiety_reason", "family_missing_why", "children_separated",
    "children_separation_why", *WITNESS, "family_in_nk", "returned_nk", "return_reason",
    "repatriations", "plan_return", "wage", *EXTRA_ITEMS, "dest_detail",
)

_STREAMS: dict[str, tuple[tuple[str, int], ...]] = {
    # block -> (noise name, number of columns; 0 = a vector)
    "leaving": (("leave_reason", 3), ("help_leaving", 0), ("help_paid", 0), ("help_ngo", 0)),
    "china_help": (("help_korean_chinese", 0), ("living", 3)),
    "aid_beliefs": (("aid_beneficiary", 0), ("aid_military", 0), ("aid_officials", 0)),
    "anxiety_reason": (("anxiety_reason", 5),),
    "separation": (("family_missing_why", 5), ("children_separated", 0),
                   ("children_separation_why", 3)),
    "camp_witness": tuple((k, 0) for k in WITNESS),
    "return": (("family_in_nk", 0), ("returned_nk", 0), ("return_reason", 3),
               ("repatriations", 0), ("plan_return", 0)),
    "work": (("wage", 3),),
    "psych_extra": tuple((k, 0) for k in EXTRA_ITEMS),
    "dest_detail": (("dest_detail", 0),),
}


def draw_extra_noise(n: int, seed_seq: np.random.SeedSequence) -> Cols:
    """The new variables' draws, one NEW child stream per block (keys ``x.<name>``):
    normal errors for probits, Gumbel errors for multinomial logits, uniforms for the
    destination split."""
    z: Cols = {}
    for block, names in _STREAMS.items():
        r = child_rng(seed_seq, "extra", block)
        for name, k in names:
            if block == "dest_detail":
                z[f"x.{name}"] = r.random(n)
            elif k:
                z[f"x.{name}"] = r.gumbel(size=(n, k))
            else:
                z[f"x.{name}"] = r.standard_normal(n)
    return z


def initial_extra_theta() -> dict:
    """Start values of the new intercepts and constants (kept with calibration 'none')."""
    th: dict = {}
    for name in ("leave_reason", "living", "anxiety_reason", "family_missing_why",
                 "children_separation_why", "return_reason", "wage"):  # multinomial logits
        k = len([lv for lv in EXTRA_CATEGORIES[name] if lv != NOT_ASKED])
        th[f"x.{name}"] = np.zeros(k if name != "living" else 3)
    for name in (*EXTRA_BINARY, "help_paid", *AID_BELIEFS, *WITNESS, "aid_beneficiary",
                 "plan_return_other"):  # probit intercepts
        th[f"x.{name}"] = 0.0
    th["x.repatriations"] = np.array([0.6, 1.4, 1.9])
    for it in EXTRA_ITEMS:
        th[f"x.{it}"] = np.array([-1.2, -0.3, 0.7])
    return th


def extra_targets(v: dict[str, float], a: dict) -> dict[str, np.ndarray | float]:
    """What each new block is solved to, from the margin values ``v`` (documented or
    the assumption standing in for a bound) and the assumed remainders."""
    t: dict[str, np.ndarray | float] = {}
    t["leave_reason"] = np.array([v["leave_economic"], v["leave_political"],
                                  1.0 - v["leave_economic"] - v["leave_political"]])
    t["help_leaving"] = v["help_leaving"]
    t["help_paid"] = v["help_paid"]
    t["help_ngo"] = v["help_ngo"]
    t["help_korean_chinese"] = v["help_korean_chinese"]
    t["living"] = np.array([v["living_missionaries"], v["living_mountains_street"]])
    t["aid_beneficiary"] = v["aid_beneficiary_aware"]
    t["aid_military"] = v["aid_military"]
    t["aid_officials"] = v["aid_officials"]
    rest = 1.0 - (v["anxiety_arrest"] + v["anxiety_hunger"] + v["anxiety_home"]
                  + v["anxiety_family"])
    t["anxiety_reason"] = np.array([v["anxiety_arrest"], v["anxiety_hunger"], v["anxiety_home"],
                                    v["anxiety_family"], rest])
    trav, steal = a["family_missing_why.share_traveling"], a["family_missing_why.share_stealing"]
    t["family_missing_why"] = np.array([v["family_missing_speaking"], trav,
                                        v["family_missing_crossing"], steal,
                                        1.0 - v["family_missing_speaking"] - trav
                                        - v["family_missing_crossing"] - steal])
    t["children_separated"] = v["children_separated"]
    t["children_separation_why"] = np.array([v["children_left_nk"], v["children_died"],
                                             1.0 - v["children_left_nk"] - v["children_died"]])
    for k in WITNESS:
        t[k] = v[k]
    t["family_in_nk"] = v["family_in_nk"]
    t["returned_nk"] = v["returned_nk"]
    t["return_reason"] = np.array([v["return_money"], v["return_food"],
                                   1.0 - v["return_money"] - v["return_food"]])
    rep = v["repatriated"]
    t["repatriations"] = np.array([1.0 - rep, 1.0 - rep * (v["repatriated_twice"]
                                                           + v["repatriated_3plus"]),
                                   1.0 - rep * v["repatriated_3plus"]])  # cumulative
    t["plan_return"] = v["plan_return_students"]
    t["plan_return_other"] = a["plan_return.share_other"]
    t["wage"] = np.array([v["wage_fair"], v["wage_little"],
                          1.0 - v["wage_fair"] - v["wage_little"]])
    for it in EXTRA_ITEMS:
        t[it] = np.cumsum(a[f"items.{it}.shares"])[:3]
    t["dest_split"] = np.asarray(a["dest.other_split"], dtype=float)
    for key, val in t.items():
        arr = np.atleast_1d(np.asarray(val, dtype=float))
        if (arr < 0).any() or (arr > 1).any():
            raise ValueError(f"targets of {key!r} leave a share outside [0, 1]: {arr}")
    return t


def implied_values(v: dict[str, float], a: dict) -> dict[str, float]:
    """What the world implies for the documented numbers it does not solve for (checks):
    the unaware share (from foodaid and the beneficiaries' share of the aware), no wage
    (the rest of fair and little) and the three sub-destinations of 'other'."""
    split = np.asarray(a["dest.other_split"], dtype=float)
    split = split / split.sum()
    return {
        "aid_unaware": 1.0 - v["foodaid"] / (1.0 - v["aid_beneficiary_aware"]),
        "wage_none": 1.0 - v["wage_fair"] - v["wage_little"],
        **{f"dest_{d}": v["dest_other"] * float(p)
           for d, p in zip(("russia", "japan", "others"), split, strict=True)},
    }


def simulate_extras(
    c: Cols, z: Cols, a: dict, theta: dict, weights: np.ndarray | None,
    targets: dict, tol: float = 1e-4,
) -> Cols:
    """The new columns (integer codes into ``EXTRA_CATEGORIES``, 0/1, or 1..4) from the
    existing columns ``c`` and the new noise; with ``weights``, each block first solves
    its intercepts in ``theta`` so that the weighted margins hit ``targets``."""
    n = len(c["female"])
    out: Cols = {}
    female = c["female"].astype(float)
    w = weights

    def binary(name: str, idx: np.ndarray, e: np.ndarray, target, mask=None,
               key: str | None = None) -> np.ndarray:
        """1{theta + idx + e > 0}; solved within ``mask`` (None: everyone)."""
        key = key or name
        m = np.ones(n, bool) if mask is None else mask
        target = min(max(float(target), 0.0), 1.0)
        if w is not None and m.any() and w[m].sum() > 0:
            theta[f"x.{key}"] = _solve_threshold(-(idx[m] + e[m]), w[m], target,
                                                 theta[f"x.{key}"], tol)
        return theta[f"x.{key}"] + idx + e > 0

    def multinomial(name: str, util: np.ndarray, target: np.ndarray, mask=None) -> np.ndarray:
        """argmax of util + constants; constants solved within ``mask``."""
        m = np.ones(n, bool) if mask is None else mask
        if w is not None and m.any() and w[m].sum() > 0:
            theta[f"x.{name}"] = _solve_multinomial(util[m], w[m], target, theta[f"x.{name}"],
                                                    tol)
        return np.argmax(util + theta[f"x.{name}"], axis=1)

    def conditional(name: str, answer: np.ndarray, asked: np.ndarray) -> np.ndarray:
        """Codes of a sub-question: the answer where asked, NOT_ASKED elsewhere."""
        na = EXTRA_CATEGORIES[name].index(NOT_ASKED)
        return np.where(asked, answer, na).astype(np.int8)

    zero = np.zeros(n)
    # ---------------- leaving North Korea (sec. II-III) ----------------
    out["leave_reason"] = multinomial("leave_reason", z["x.leave_reason"],
                                      targets["leave_reason"]).astype(np.int8)
    helped = binary("help_leaving", zero, z["x.help_leaving"], targets["help_leaving"])
    out["help_leaving"] = helped.astype(np.int8)
    paid = binary("help_paid", zero, z["x.help_paid"], targets["help_paid"], helped)
    out["help_paid"] = conditional("help_paid", paid, helped)
    # NGO help: a share of ALL respondents, possible only for the helped
    p_ngo = targets["help_ngo"] / max(_wshare(helped, w), 1e-9) if w is not None else 0.0
    ngo = binary("help_ngo", zero, z["x.help_ngo"], p_ngo, helped) & helped
    out["help_ngo"] = ngo.astype(np.int8)

    # ---------------- help and living arrangements in China (sec. III) ----------------
    host = c["korean_chinese_host"].astype(bool)
    idx = a["help_korean_chinese.host"] * host
    out["help_korean_chinese"] = binary("help_korean_chinese", idx, z["x.help_korean_chinese"],
                                        targets["help_korean_chinese"]).astype(np.int8)
    # those not living with a Korean-Chinese host: missionaries, mountains/street, other
    # (shares of ALL respondents, so of the non-host group after dividing by its share)
    off = ~host
    share_off = max(_wshare(off, w), 1e-9) if w is not None else 1.0
    inner = targets["living"] / share_off
    inner = np.append(inner, 1.0 - inner.sum())
    if (inner < 0).any():
        raise ValueError("living: missionaries + mountains/street exceed the share not "
                         "living with Korean-Chinese")
    pick = multinomial("living", z["x.living"], inner, off)
    out["living"] = np.where(host, 0, pick + 1).astype(np.int8)

    # ---------------- food aid (sec. IV) ----------------
    # foodaid = aware and not a beneficiary; among the rest, beneficiaries such that
    # beneficiaries / aware = target (assumption below the printed 'less than 4 percent')
    fa = c["foodaid"].astype(bool)
    if w is not None:
        f_share = _wshare(fa, w)
        q = targets["aid_beneficiary"]
        p_ben = q * f_share / (1.0 - q) / max(1.0 - f_share, 1e-9)
    else:
        p_ben = 0.0
    ben = binary("aid_beneficiary", zero, z["x.aid_beneficiary"], p_ben, ~fa) & ~fa
    out["aid_status"] = np.where(fa, 1, np.where(ben, 2, 0)).astype(np.int8)
    aware = fa | ben
    for k in AID_BELIEFS:
        yes = binary(k, zero, z[f"x.{k}"], targets[k], aware)
        out[k] = conditional(k, yes, aware)

    # ---------------- main reason for anxiety (Table 4) ----------------
    # women cite arrest more, men residence ('home'), family and hunger more (Table 4's
    # patterns)
    util = z["x.anxiety_reason"].copy()
    util[:, 1] += a["anxiety_reason.hunger.female"] * female
    util[:, 2] += a["anxiety_reason.home.female"] * female
    util[:, 3] += a["anxiety_reason.family.female"] * female
    out["anxiety_reason"] = multinomial("anxiety_reason", util,
                                        targets["anxiety_reason"]).astype(np.int8)

    # ---------------- family separation (Table 5 panel B; sec. IV) ----------------
    fm = c["family_missing"].astype(bool)
    why = multinomial("family_missing_why", z["x.family_missing_why"],
                      targets["family_missing_why"], fm)
    out["family_missing_why"] = conditional("family_missing_why", why, fm)
    idx = a["children_separated.age_decades"] * (c["age_decades"] - 3.8)
    sep = binary("children_separated", idx, z["x.children_separated"],
                 targets["children_separated"])
    out["children_separated"] = sep.astype(np.int8)
    cwhy = multinomial("children_separation_why", z["x.children_separation_why"],
                       targets["children_separation_why"], sep)
    out["children_separation_why"] = conditional("children_separation_why", cwhy, sep)

    # ---------------- what the detained witnessed (Table 6) ----------------
    camp = c["camp"].astype(bool)
    for k in WITNESS:
        idx = a[f"{k}.female"] * female
        yes = binary(k, idx, z[f"x.{k}"], targets[k], camp)
        out[k] = conditional(k, yes, camp)

    # ---------------- family left behind, returns, repatriation (sec. VI) ----------------
    out["family_in_nk"] = binary("family_in_nk", zero, z["x.family_in_nk"],
                                 targets["family_in_nk"]).astype(np.int8)
    ret = binary("returned_nk", zero, z["x.returned_nk"], targets["returned_nk"])
    out["returned_nk"] = ret.astype(np.int8)
    rwhy = multinomial("return_reason", z["x.return_reason"], targets["return_reason"], ret)
    out["return_reason"] = conditional("return_reason", rwhy, ret)
    # times repatriated: ordered probit, the arrested more often (repatriation follows an
    # arrest by the Chinese police)
    ystar = a["repatriations.arrest"] * c["arrest"] + z["x.repatriations"]
    if w is not None:
        theta["x.repatriations"] = np.array([
            _solve_threshold(ystar, w, p, theta["x.repatriations"][j], tol)
            for j, p in enumerate(targets["repatriations"])])
    tau = theta["x.repatriations"]
    out["repatriations"] = ((ystar > tau[0]).astype(np.int8) + (ystar > tau[1])
                            + (ystar > tau[2])).astype(np.int8)
    student = c["student"].astype(bool)
    plan_s = binary("plan_return", zero, z["x.plan_return"], targets["plan_return"], student)
    plan_o = binary("plan_return", zero, z["x.plan_return"], targets["plan_return_other"],
                    ~student, key="plan_return_other")
    out["plan_return"] = np.where(student, plan_s, plan_o).astype(np.int8)

    # ---------------- wages (sec. VI) ----------------
    out["wage"] = multinomial("wage", z["x.wage"], targets["wage"]).astype(np.int8)

    # ---------------- the two further psychological items (Tables 2-3) ----------------
    lam = a["distress.loading"]
    for it in EXTRA_ITEMS:
        ystar = (lam * c["distress"] + a[f"items.{it}.female"] * female
                 + np.sqrt(max(1.0 - lam**2, 1e-9)) * z[f"x.{it}"])
        if w is not None:
            theta[f"x.{it}"] = np.array([_solve_threshold(ystar, w, p, theta[f"x.{it}"][j], tol)
                                         for j, p in enumerate(targets[it])])
        tau = theta[f"x.{it}"]
        out[it] = (1 + (ystar > tau[0]).astype(np.int8) + (ystar > tau[1])
                   + (ystar > tau[2])).astype(np.int8)

    # ---------------- Table 8's 'other' destination split ----------------
    split = np.cumsum(targets["dest_split"] / np.sum(targets["dest_split"]))
    sub = np.minimum(np.searchsorted(split, z["x.dest_detail"], side="right"), len(split) - 1)
    other = c["dest"] == 4
    out["dest_detail"] = np.where(other, 4 + sub, c["dest"]).astype(np.int8)
    return out


def _wshare(mask: np.ndarray, w: np.ndarray) -> float:
    """The w-weighted share of ``mask``."""
    return float(np.sum(w, where=mask)) / float(np.sum(w))

