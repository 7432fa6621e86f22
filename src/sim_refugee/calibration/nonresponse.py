"""Item nonresponse solved to the paper's valid Ns (Tables 7 and 9, ``n`` rows).

Under the default monotone pattern (``designs.artefacts``) a fit's valid N is
``n - max(k_q)`` over the questions q it reads, with ``k_q = round(share_q * n)``
blank answers of question q: the same N in every sample. So hitting the printed N
patterns is a small exact problem: pick, for every fit, a valid N inside its printed
pattern and the question that binds it, and give every other question fewer blanks
than each fit it enters allows.

The chosen Ns and binding questions below are assumptions (the pattern leaves the
digits open); each is inside its printed pattern and consistent with the valid Ns
the arithmetic of the descriptive tables allows (shared/paper/DECODING_NOTES.md D:
Table 1 total 1,127-1,319, Table 5 1,111-1,297, Table 6 1,222-1,346, Table 8
1,243-1,274).
"""

from __future__ import annotations

from sim_refugee.calibration.cells import N_PATTERNS, n_matches
from sim_refugee.designs.artefacts import QUESTION_COLUMNS
from sim_refugee.suite.specs import MODELS, T7_ITEMS

PAPER_N = 1346

#: fit -> (chosen valid N at n = 1,346, the question whose blanks bind it, why)
PAPER_VALID_N: dict[str, tuple[int, str, str]] = {
    "t7_anxious": (1205, "anxious", "printed 1,?0?"),
    "t7_fear": (1204, "fear", "printed 1,?0?"),
    "t7_fearfamily": (1200, "fearfamily", "printed 1,?00"),
    "t7_anger": (1200, "anger", "printed 1,?00"),
    "t7_concentrate": (1055, "concentrate", "printed 1,0??: the smallest Table 7 N"),
    "t7_attain": (1207, "attain", "printed 1,?0?"),
    "t7_hope": (1203, "hope", "printed 1,?0?"),
    "t9_2spls_job": (947, "children", "printed ??? (under 1,000); every other 2SPLS variable "
                     "has a table total of at least 1,111, so child dependents, which have "
                     "none, carry the blanks"),
    "t9_us_p1": (1058, "job", "printed 1,0??; job in China is the one question of P(1) "
                 "not in P(2)-P(4)"),
    "t9_sk_p1": (1058, "job", "printed 1,0??"),
    "t9_us_p2": (1250, "dest", "printed 1,??0; also Table 8's total (1,243-1,274)"),
    "t9_sk_p2": (1250, "dest", "printed 1,??0"),
    "t9_us_p3": (1247, "camp", "printed 1,???; also Table 6's total (1,222-1,346)"),
    "t9_sk_p3": (1247, "camp", "printed ????"),
    "t9_us_p4": (1238, "death", "printed 1,???"),
    "t9_sk_p4": (1238, "death", "printed ????"),
}

#: questions no fit binds: blanks chosen within what the fits allow (assumptions)
OTHER_BLANKS: dict[str, tuple[int, str]] = {
    "years_in_china": (130, "Table 1 total 1,216 (decoded range 1,127-1,319)"),
    "family_missing": (150, "Table 5 total 1,196 (decoded range 1,111-1,297)"),
    "foodaid": (80, "fewer blanks than any fit it enters allows (Table 7: 139)"),
    "arrest": (70, "fewer blanks than any fit it enters allows (Table 7: 139)"),
    "trafficking": (60, "fewer blanks than any fit it enters allows (P(2): 96)"),
}

#: suite regressors that are not questions with blanks (always recorded)
_ALWAYS = {"female", "age", "elementary", "secondary", "postsecondary", "farmer", "trader",
           "student", "other_job", "northeast", "pyongyang", "const"}


def fit_questions(model: str) -> set[str]:
    """The questions whose blanks drop a row from ``model`` ('avgpsych' stands for
    all seven items: it is missing only when every item is)."""
    spec = MODELS[model]
    cols = {spec.endog, *spec.exog}
    if model == "t9_2spls_job":  # the system is fitted on rows complete for both equations
        cols |= {"avgpsych", *MODELS["t9_2spls_psych"].exog}
    out = set()
    for c in cols - _ALWAYS:
        if c in ("prefer_us", "prefer_sk"):
            out.add("dest")
        elif c == "avgpsych":
            out.add("avgpsych")
        elif c in QUESTION_COLUMNS:
            out.add(c)
        else:
            raise KeyError(f"column {c!r} of {model} is neither a question nor always recorded")
    return out


def blanks(shares: dict[str, float], n: int) -> dict[str, int]:
    """Blank answers per question at sample size n (and 'avgpsych': all items blank)."""
    k = {q: int(round(shares.get(q, 0.0) * n)) for q in QUESTION_COLUMNS}
    k["avgpsych"] = min(k[it] for it in T7_ITEMS)
    return k


def valid_n(model: str, shares: dict[str, float], n: int) -> int:
    """A fit's valid N under the monotone pattern."""
    k = blanks(shares, n)
    return n - max((k[q] for q in fit_questions(model)), default=0)


def solve_shares(n: int = PAPER_N) -> dict[str, float]:
    """Per-question shares that give every fit its chosen valid N at ``n``.

    Binding questions get ``n - N``; the others their chosen blanks. Raises if a choice
    is inconsistent (a question bound to two different Ns, or non-binding blanks that
    would bind a fit).
    """
    k: dict[str, int] = {}
    for target, question, _ in PAPER_VALID_N.values():
        need = n - target
        if k.setdefault(question, need) != need:
            raise ValueError(f"question {question!r} binds two fits at different Ns")
    for q, (blank, _) in OTHER_BLANKS.items():
        k[q] = blank
    shares = {q: round(k.get(q, 0) / n, 6) for q in QUESTION_COLUMNS}
    for fit, (target, _, _) in PAPER_VALID_N.items():
        got = valid_n(fit, shares, n)
        if got != target:
            raise ValueError(f"{fit}: valid N {got}, chosen {target}")
        if not n_matches(got, N_PATTERNS[fit]):
            raise ValueError(f"{fit}: valid N {got} does not print as {N_PATTERNS[fit]}")
    return shares
