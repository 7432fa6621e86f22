"""The paper's conclusions as named predicates on a suite result.

Every claim of ``shared/paper/targets.yaml`` (``claims:``) is here under its id, plus the
further conclusions the text states (ids marked ``origin='text'``, numbered C.. in
``targets_detailed.yaml``). Each has the paper's sentence, where it stands, and the
exact test. Significance is p < 0.05 unless the claim says otherwise. A claim reads
only the raw Table 7 scale (``t7_*``, what sneop prints) and the Table 9 fits.

A predicate returns True/False; it is NOT evaluable (``<NA>``) when a value it needs is
missing: a model whose status is not 'ok', a NaN estimate (e.g. a regressor constant
in the sample), or a table that was not built.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim_refugee.suite.specs import EXPERIENTIAL, MODELS, T7_ITEMS

ALPHA = 0.05


class NotEvaluable(Exception):
    """A value the predicate needs is missing (failed fit, NaN, table not built)."""


class Evidence:
    """Fast read access to one SuiteResult for the predicates."""

    def __init__(self, result, n_ref: float | None = None) -> None:
        est = result.estimates
        b = est["estimate"].to_numpy(dtype=float)
        p = est["pvalue"].to_numpy(dtype=float)
        scal = result.scalars
        if n_ref is not None:
            p, scal = _rescaled(result, n_ref)
        self._e = dict(zip(zip(est["model"], est["term"], strict=True),
                           zip(b, p, est["status"], strict=True), strict=True))
        self._s = scal

    def _row(self, model: str, term: str) -> tuple[float, float]:
        try:
            b, p, status = self._e[(model, term)]
        except KeyError as exc:
            raise NotEvaluable(f"no row ({model}, {term})") from exc
        if status != "ok" or not (np.isfinite(b) and np.isfinite(p)):
            raise NotEvaluable(f"({model}, {term}) status {status}")
        return b, p

    def b(self, model: str, term: str) -> float:
        return self._row(model, term)[0]

    def p(self, model: str, term: str) -> float:
        return self._row(model, term)[1]

    def sig(self, model: str, term: str, alpha: float = ALPHA) -> bool:
        return self.p(model, term) < alpha

    def pos(self, model: str, term: str, alpha: float = ALPHA) -> bool:
        """Positive and significant."""
        b, p = self._row(model, term)
        return b > 0 and p < alpha

    def neg(self, model: str, term: str, alpha: float = ALPHA) -> bool:
        """Negative and significant."""
        b, p = self._row(model, term)
        return b < 0 and p < alpha

    def s(self, name: str) -> float:
        v = self._s.get(name, np.nan) if self._s is not None else np.nan
        if not np.isfinite(v):
            raise NotEvaluable(f"scalar {name} missing")
        return float(v)


def _rescaled(result, n_ref: float) -> tuple[np.ndarray, pd.Series]:
    """p-values as if each fit and each gender test had n_ref observations.

    A Wald z scales with sqrt(n) and a Pearson chi-square with n, so at the same
    estimates z_ref = z sqrt(n_ref / nobs) and X2_ref = X2 n_ref / nobs. On the census fit
    this is the noise-free answer at the paper's sample size: whether a claim that
    rests on significance holds for a sample of n_ref from this population, setting
    aside sampling error (the Monte Carlo gives the rest).
    """
    from scipy import stats

    est = result.estimates
    with np.errstate(invalid="ignore", divide="ignore"):
        z = est["estimate"].to_numpy(float) / est["se"].to_numpy(float)
        z = z * np.sqrt(n_ref / est["nobs"].to_numpy(float))
    p = 2 * stats.norm.sf(np.abs(z))
    scal = result.scalars.copy()
    tests = result.tests
    if not {"item", "statistic", "df", "nobs"} <= set(getattr(tests, "columns", ())):
        return p, scal
    for item, stat, df, nobs in zip(tests["item"], tests["statistic"], tests["df"],
                                    tests["nobs"], strict=True):
        key = f"chi2_p.{item}"
        if key in scal.index and np.isfinite(stat) and nobs > 0 and df > 0:
            scal[key] = float(stats.chi2.sf(stat * n_ref / nobs, df))
    return p, scal


@dataclass(frozen=True)
class Claim:
    """One conclusion of the paper: id, where, the sentence, the test and its predicate."""

    id: str
    where: str
    sentence: str
    test: str
    predicate: Callable[[Evidence], bool]
    origin: str = "targets"  # 'targets' (targets.yaml claims:) or 'text' (further claims)
    models: tuple[str, ...] = ()


def _count(flags) -> int:
    return int(sum(bool(f) for f in flags))


def _argmax_exp(e: Evidence, item: str) -> str:
    vals = [e.b(f"t7_{item}", v) for v in EXPERIENTIAL]
    return EXPERIENTIAL[int(np.argmax(vals))]


US = [f"t9_us_p{k}" for k in (1, 2, 3, 4)]
SK = [f"t9_sk_p{k}" for k in (1, 2, 3, 4)]
JOB = "t9_2spls_job"
T7M = tuple(f"t7_{i}" for i in T7_ITEMS)
OCC = ("farmer", "trader", "student", "other_job")


# ------------------------------------------------------------------ Table 7 claims ---
def _all7_pos(term):
    return lambda e: all(e.pos(f"t7_{i}", term) for i in T7_ITEMS)


def _atleast_pos(term, k, including=()):
    def pred(e):
        flags = {i: e.pos(f"t7_{i}", term) for i in T7_ITEMS}
        return _count(flags.values()) >= k and all(flags[i] for i in including)
    return pred


def _foodaid_largest(e):
    arg = {i: _argmax_exp(e, i) for i in T7_ITEMS}
    return _count(a == "foodaid" for a in arg.values()) >= 6 and arg["concentrate"] == "death"


def _famine_largest(e):
    return all(_argmax_exp(e, i) in ("foodaid", "death") for i in T7_ITEMS)


def _dwarf(e):
    exp = [abs(e.b(m, v)) for m in T7M for v in EXPERIENTIAL]
    dem = [abs(e.b(m, v)) for m in T7M for v in ("female", "age")]
    return float(np.mean(exp)) > float(np.mean(dem))


def _female_2(e):
    sig = {i for i in T7_ITEMS if e.sig(f"t7_{i}", "female")}
    return sig == {"anxious", "fearfamily"} and all(e.b(f"t7_{i}", "female") > 0 for i in sig)


def _age_5(e):
    sig = [i for i in T7_ITEMS if e.sig(f"t7_{i}", "age")]
    return (len(sig) >= 5 and all(e.b(f"t7_{i}", "age") > 0 for i in sig)
            and {"attain", "hope"} <= set(sig))


def _elementary(e):
    fear3 = all(e.neg(f"t7_{i}", "elementary") for i in ("anxious", "fear", "fearfamily"))
    rest = not any(e.sig(f"t7_{i}", "elementary")
                   for i in ("anger", "concentrate", "attain", "hope"))
    return fear3 and rest


def _trader(e):
    return (all(e.b(f"t7_{i}", "trader") > 0 for i in T7_ITEMS)
            and _count(e.pos(f"t7_{i}", "trader") for i in T7_ITEMS) >= 4)


def _occupation(e):
    return _count(any(e.sig(f"t7_{i}", o) for o in OCC) for i in T7_ITEMS) >= 4


# ------------------------------------------------------------------ Table 9 claims ---
def _educ_us(e):
    return _count(e.pos(m, v) for m in US for v in ("secondary", "postsecondary")) >= 7


def _northeast_us(e):
    return all(e.neg(m, "northeast") for m in US) and not any(e.sig(m, "northeast") for m in SK)


def _province_only_us(e):
    others = [(JOB, "northeast"), (JOB, "pyongyang")]
    others += [(m, "northeast") for m in SK] + [(m, "pyongyang") for m in US + SK]
    return not any(e.sig(m, t) for m, t in others)


def _fragile(e):
    alone = (e.pos("t9_us_p3", "camp") and e.pos("t9_us_p4", "death")
             and e.neg("t9_sk_p3", "camp") and e.neg("t9_sk_p4", "death"))
    full = not any(e.sig(m, v) for m in ("t9_us_p1", "t9_sk_p1") for v in ("camp", "death"))
    return alone and full


def _job_demog_null(e):
    terms = ("female", "northeast", "pyongyang", "age", "elementary", *OCC)
    return not any(e.sig(JOB, t) for t in terms)


def _demog_dominate(e):
    dem, exp = [], []
    for m in US + SK:
        for t in MODELS[m].exog:
            (exp if t in (*EXPERIENTIAL, "job") else dem).append(e.sig(m, t))
    return sum(dem) > sum(exp)


# ------------------------------------------------------------- descriptive claims ---
def _women_longer(e):
    return (e.s("share.china_spell.>3y.female") > e.s("share.china_spell.>3y.male")
            and e.s("chi2_p.china_spell") < ALPHA)


def _men_detained(e):
    return e.s("share.camp.1.male") > e.s("share.camp.1.female") and e.s("chi2_p.camp") < ALPHA


def _arrest_fear(e):
    return (e.s("share.anxiety_reason.arrest.female") > e.s("share.anxiety_reason.arrest.male")
            and e.s("share.anxiety_reason.home.male") > e.s("share.anxiety_reason.home.female"))


def _sk_modal(e):
    shares = {d: e.s(f"share.dest.{d}.total")
              for d in ("north_korea", "south_korea", "united_states", "china", "other")}
    order = sorted(shares, key=shares.get, reverse=True)
    return order[0] == "south_korea" and order[1] == "united_states"


#: the nine items of Tables 2-3 (the seven of Table 7 and the two it leaves out)
ALL_ITEMS: tuple[str, ...] = (*T7_ITEMS, "badthings", "unsure_future")
#: the fear-and-anxiety cluster of Table 2 ('fear' read as 'always in fear')
FEAR_ITEMS: tuple[str, ...] = ("anxious", "badthings", "fearfamily", "fear")


def _status_items_highest(e):
    means = {i: e.s(f"mean.{i}.total") for i in ALL_ITEMS}
    top3 = set(sorted(means, key=means.get, reverse=True)[:3])
    return top3 == {"anxious", "badthings", "fearfamily"}


def _women_more_fear(e):
    return all(e.s(f"mean.{i}.female") > e.s(f"mean.{i}.male") for i in FEAR_ITEMS)


def _t(item: str, level: str) -> str:
    """The total share scalar of one level of a descriptive item."""
    return f"share.{item}.{level}.total"


def _aid(e):
    ben, excl = e.s(_t("aid_status", "beneficiary")), e.s(_t("aid_status", "excluded"))
    if ben + excl <= 0:
        raise NotEvaluable("nobody aware of the food aid")
    return e.s(_t("aid_status", "unaware")) > 0.40 and ben / (ben + excl) < 0.04


def _separation(e):
    why = {k: e.s(_t("family_missing_why", k))
           for k in ("speaking", "traveling", "crossing", "stealing", "dont_know")}
    order = sorted(why, key=why.get, reverse=True)
    return order[:2] == ["crossing", "traveling"] and why["speaking"] < 0.05


def _witness(e):
    starv, tort, exe = (e.s(_t(k, "yes")) for k in
                        ("witness_starvation", "witness_torture_death", "witness_executions"))
    return starv > 0.5 and starv > tort > exe


def _students_return(e):
    k = "plan_return.by_student"
    return (e.s(f"share.{k}.1.student") > e.s(f"share.{k}.1.not_student")
            and e.s(f"chi2_p.{k}") < ALPHA)


def _C(id, where, sentence, test, pred, origin="targets", models=()):
    return Claim(id, where, sentence, test, pred, origin, tuple(models))


CLAIMS: tuple[Claim, ...] = (
    _C("death_all7", "sec. V, Table 7",
       "Death of a family member due to hunger (death) and knowing of the food aid program but "
       "believing that one was not a beneficiary (food aid) were significant in all seven regressions",
       "death > 0 and p < 0.05 in all 7 Table 7 regressions", _all7_pos("death"), models=T7M),
    _C("foodaid_all7", "sec. V, Table 7",
       "... (food aid) were significant in all seven regressions; these experiences were strongly "
       "associated with adverse psychological outcomes",
       "foodaid > 0 and p < 0.05 in all 7", _all7_pos("foodaid"), models=T7M),
    _C("camp_6of7", "sec. V, Table 7",
       "Incarceration in political detention facilities (camp) and knowledge of trafficking in "
       "women (trafficking) ... were significant in six of the seven regressions",
       "camp > 0 and p < 0.05 in at least 6 of 7", _atleast_pos("camp", 6), models=T7M),
    _C("trafficking_6of7", "sec. V, Table 7",
       "... and knowledge of trafficking in women (trafficking) ... were significant in six of "
       "the seven regressions",
       "trafficking > 0 and p < 0.05 in at least 6 of 7", _atleast_pos("trafficking", 6),
       models=T7M),
    _C("arrest_4of7", "sec. V, Table 7",
       "Arrest was significant in four of seven cases, including both questions relating to "
       "future orientation.",
       "arrest > 0 and p < 0.05 in at least 4 of 7, including attain and hope",
       _atleast_pos("arrest", 4, ("attain", "hope")), models=T7M),
    _C("foodaid_largest_6of7", "sec. V, Table 7",
       "In six of the seven cases, the coefficients on food aid are estimated with the largest "
       "values of any of the experiential variables ... the concentrate regression, the largest "
       "estimated coefficient is on ... death.",
       "foodaid is the largest of the 5 experiential coefficients in >= 6 of 7, and death is "
       "the largest in concentrate", _foodaid_largest, models=T7M),
    _C("famine_largest_all7", "sec. V, Table 7",
       "In all seven regressions, the largest estimated coefficient of the five experiential "
       "variables is famine-related.",
       "the largest experiential coefficient is foodaid or death in all 7", _famine_largest,
       models=T7M),
    _C("experiential_dwarf_demographic", "sec. V, Table 7",
       "the impact of these demographic variables was dwarfed by the experiential ones",
       "mean |coef| of the 5 experiential variables over the 7 models exceeds that of female "
       "and age (age in decades)", _dwarf, models=T7M),
    _C("female_2of7", "sec. V, Table 7",
       "gender was significant in only two of the seven regressions ... women experienced "
       "higher anxiety and fear for other family members than men",
       "female p < 0.05 in exactly anxious and fearfamily, both > 0", _female_2, models=T7M),
    _C("age_5of7", "sec. V, Table 7",
       "age is a statistically significant correlate in five of the seven regressions, in all "
       "cases being associated with more negative psychological status ... particularly ... "
       "orientation toward the future",
       "age p < 0.05 in at least 5 of 7, all of them > 0, including attain and hope", _age_5,
       models=T7M),
    _C("elementary_fear3", "sec. V, Table 7",
       "Education tended to increase fear and anxiety but did not have effects on other "
       "psychological problems ... elementary remained significant in all three of the fear "
       "and anxiety questions",
       "elementary < 0 and p < 0.05 in anxious, fear, fearfamily; p >= 0.05 in the other 4",
       _elementary, models=T7M),
    _C("trader_distress", "sec. V, Table 7",
       "Traders showed a significantly higher level of psychological distress, and across all "
       "questions, than workers",
       "trader > 0 in all 7 and > 0 with p < 0.05 in a majority (>= 4; the printed table has 5)",
       _trader, models=T7M),
    _C("farmer_future", "sec. V, Table 7",
       "Farmers ... did show a more despairing outlook toward the future.",
       "farmer > 0 and p < 0.05 in attain and hope",
       lambda e: e.pos("t7_attain", "farmer") and e.pos("t7_hope", "farmer"), models=T7M),
    _C("student_hopeful", "sec. V, Table 7",
       "Conversely, students had the most hopeful future orientation.",
       "student < 0 and p < 0.05 in attain and hope",
       lambda e: e.neg("t7_attain", "student") and e.neg("t7_hope", "student"), models=T7M),
    _C("province_null_psych", "fn. 17",
       "Various specifications of variables relating to provincial origin were uncorrelated "
       "with psychological outcomes and are not reported.",
       "northeast added to the Table 7 models (t7ne_*): p >= 0.05 in all 7",
       lambda e: not any(e.sig(f"t7ne_{i}", "northeast") for i in T7_ITEMS),
       models=tuple(f"t7ne_{i}" for i in T7_ITEMS)),
    _C("time_in_china_null_psych", "sec. III",
       "greater time in China neither improved psychological state ... nor reduced it",
       "years in China added to the Table 7 models (t7yr_*): p < 0.05 in at most 3 of 7",
       lambda e: _count(e.sig(f"t7yr_{i}", "years_in_china") for i in T7_ITEMS) <= 3,
       models=tuple(f"t7yr_{i}" for i in T7_ITEMS)),
    _C("avgpsych_job", "sec. VI, Table 9 (1)",
       "Psychological distress strongly impedes employment in China.",
       "2SPLS employment equation: avgpsych < 0 with p < 0.001",
       lambda e: e.neg(JOB, "avgpsych", 0.001), models=(JOB,)),
    _C("inchina_job", "sec. VI, Table 9 (1)",
       "Interestingly, length of time in China is also negatively associated with employment.",
       "2SPLS employment equation: years_in_china < 0, p < 0.05",
       lambda e: e.neg(JOB, "years_in_china"), models=(JOB,)),
    _C("children_job", "sec. VI, Table 9 (1)",
       "In contrast, having child dependents encourages employment",
       "2SPLS employment equation: children > 0, p < 0.05",
       lambda e: e.pos(JOB, "children"), models=(JOB,)),
    _C("trafficking_job", "sec. VI, Table 9 (1)",
       "The only other significant correlate with employment is knowledge of trafficking; it is "
       "positively associated with employment.",
       "2SPLS employment equation: trafficking > 0, p < 0.05",
       lambda e: e.pos(JOB, "trafficking"), models=(JOB,)),
    _C("educ_us_7of8", "sec. VI, Table 9",
       "Secondary and postsecondary education were statistically significant predictors of the "
       "preference to live in the United States in seven of eight cases",
       "secondary and postsecondary > 0 with p < 0.05 in >= 7 of the 8 US-P coefficients",
       _educ_us, models=tuple(US)),
    _C("educ_sk_negative", "sec. VI, Table 9",
       "they were negatively associated with a preference for South Korea as the final "
       "destination, significantly so in most cases",
       "secondary < 0 with p < 0.05 in >= 3 of the 4 SK-P specifications",
       lambda e: _count(e.neg(m, "secondary") for m in SK) >= 3, models=tuple(SK)),
    _C("age_us", "sec. VI, Table 9",
       "age was strongly negatively correlated with a preference to emigrate to the United "
       "States",
       "age < 0 with p < 0.05 in all 4 US-P specifications",
       lambda e: all(e.neg(m, "age") for m in US), models=tuple(US)),
    _C("northeast_us", "sec. VI, Table 9",
       "Refugees who originated in the three northeastern provinces of North Korea had a "
       "distinct disinterest in the United States",
       "northeast < 0 with p < 0.05 in all 4 US-P; p >= 0.05 in all 4 SK-P", _northeast_us,
       models=tuple(US + SK)),
    _C("trafficking_us", "sec. VI, Table 9",
       "Knowledge of trafficking is positively associated with a preference for the United "
       "States.",
       "trafficking > 0 with p < 0.05 in the US-P columns that include it (P1, P2)",
       lambda e: e.pos("t9_us_p1", "trafficking") and e.pos("t9_us_p2", "trafficking"),
       models=("t9_us_p1", "t9_us_p2")),
    _C("camp_death_fragile", "sec. VI, Table 9",
       "Camp and death are also positively associated with desire to permanently resettle in "
       "the United States and negatively associated with interest in South Korea, though these "
       "correlations become insignificant when other experiential variables are added.",
       "camp (P3) and death (P4) significant alone, US > 0 and SK < 0; camp and death p >= 0.05 "
       "in US-P1 and SK-P1 (the printed table keeps SK-P1 camp at *, so the paper's own table "
       "fails this)", _fragile, models=tuple(US + SK)),
    _C("women_longer_in_china", "sec. III, Table 1",
       "There are statistically significant differences across genders in the duration of "
       "residence in China. Nearly 41 percent of women had been in China for more than three "
       "years, but only 23 percent of men had.",
       "share > 3 years higher for women than men, and Pearson chi-square (spell x gender) "
       "p < 0.05", _women_longer),
    _C("men_more_detained", "sec. IV, Table 6",
       "males were significantly more likely to report incarceration in political detention "
       "facilities than were females",
       "camp share higher for men, chi-square p < 0.05", _men_detained),
    _C("arrest_no_gender_gap", "sec. IV",
       "there were no statistically significant differences in self-reported arrest rates "
       "across genders",
       "chi-square of arrest x gender p >= 0.05", lambda e: e.s("chi2_p.arrest") >= ALPHA),
    _C("women_more_arrest_fear", "sec. IV, Table 4",
       "as shown in table 4, women are more likely to trace their anxiety to fear of arrest "
       "than men, who show more concern with respect to their residence",
       "Table 4: arrest share higher for women, home share higher for men", _arrest_fear),
    _C("sk_most_preferred", "sec. VI, Table 8",
       "the two most frequently identified preferred destinations for permanent resettlement "
       "are South Korea (64 percent) and the United States (19 percent)",
       "South Korea the modal destination, the US second", _sk_modal),
    _C("majority_distressed", "sec. IV, Table 2",
       "a majority of North Korean refugees in China exhibit significant psychological distress",
       "share agree or strongly agree with 'usually anxious' > 0.5",
       lambda e: e.s("agree.anxious.total") > 0.5),
    # --------------------------------------------- further conclusions of the text ---
    _C("foodaid_gt_camp_all7", "sec. V, Table 7",
       "consistently larger in magnitude, for example, than the coefficients on having been "
       "incarcerated in a political detention facility",
       "foodaid > camp coefficient in all 7",
       lambda e: all(e.b(m, "foodaid") > e.b(m, "camp") for m in T7M), "text", T7M),
    _C("occupation_matters", "sec. V, Table 7",
       "Occupational status (trader, student, farmer, other job) is frequently correlated with "
       "psychological state.",
       "some occupation dummy p < 0.05 in at least 4 of 7", _occupation, "text", T7M),
    _C("women_more_fear", "sec. IV, Tables 2-3",
       "The descriptive statistics also suggest differences between men and women on this "
       "cluster of questions, with women showing greater incidence of fear and anxiety",
       "female mean > male mean on the four fear-and-anxiety items of Tables 2-3 (usually "
       "anxious, bad things will happen, fear for family, always in fear)",
       _women_more_fear, "text"),
    _C("status_items_highest", "sec. IV, Table 3",
       "mean scores are highest for those relating to the anxiety of their status: usually "
       "anxious, bad things will happen, and fear for family",
       "anxious, badthings and fearfamily have the three highest total means of the nine "
       "items", _status_items_highest, "text"),
    _C("women_more_famine_death", "sec. IV",
       "More than 23 percent of men and 37 percent of women reported having had family members "
       "die of hunger.",
       "death share higher for women than men",
       lambda e: e.s("share.death.1.female") > e.s("share.death.1.male"), "text"),
    _C("job_demographics_null", "sec. VI, Table 9 (1)",
       "None of the other demographic variables matter once these are taken into account.",
       "female, northeast, pyongyang, age, elementary and occupation p >= 0.05 in the 2SPLS "
       "employment equation", _job_demog_null, "text", (JOB,)),
    _C("student_sk", "sec. VI, Table 9",
       "in a couple of specifications, the occupational category student was negatively "
       "associated with a preference for South Korea",
       "student < 0 with p < 0.05 in at least 2 of the 4 SK-P",
       lambda e: _count(e.neg(m, "student") for m in SK) >= 2, "text", tuple(SK)),
    _C("province_only_us", "sec. VI, Table 9",
       "the only example from our analysis in which provincial origins mattered to an outcome",
       "northeast p >= 0.05 in the 2SPLS and all SK-P; pyongyang p >= 0.05 in all 9 columns",
       _province_only_us, "text", (JOB, *US, *SK)),
    _C("demographics_dominate_destination", "sec. VI, Table 9",
       "demographic variables generally appear to be more correlated with outcomes than are "
       "experiential variables on this issue",
       "over the 8 destination probits, more demographic than experiential (incl. job) "
       "coefficients have p < 0.05 (a count, as targets_detailed C51 states it)", _demog_dominate, "text",
       tuple(US + SK)),
    # ------------------------ the further documented numbers (issue 11): the text's shares ---
    _C("economy_main_reason", "sec. II",
       "the economy was the overwhelming reason for leaving North Korea (95 percent); "
       "political dissatisfaction was a very distant second (2 percent)",
       "economic share > 0.5 and political share < 0.1",
       lambda e: e.s(_t("leave_reason", "economic")) > 0.5
       and e.s(_t("leave_reason", "political")) < 0.1, "text"),
    _C("helped_out_paid", "sec. III",
       "Three-quarters of respondents reported receiving assistance getting out of the "
       "country. Of these more than half reported that they had paid for assistance",
       "share helped > 0.5 and, of the helped, share paid > 0.5",
       lambda e: e.s(_t("help_leaving", "1")) > 0.5 and e.s(_t("help_paid", "yes")) > 0.5,
       "text"),
    _C("ngo_minor", "sec. III",
       "their importance appears to be relatively minor with respect to initial egress; barely "
       "1 percent of the sample reported NGOs as a source of assistance",
       "share helped by an NGO < 0.05", lambda e: e.s(_t("help_ngo", "1")) < 0.05, "text"),
    _C("korean_chinese_help", "sec. III",
       "The overwhelming majority (88 percent) reported receiving help from the "
       "Korean-Chinese community directly.",
       "share helped by Korean-Chinese > 0.75",
       lambda e: e.s(_t("help_korean_chinese", "1")) > 0.75, "text"),
    _C("live_with_korean_chinese", "sec. III",
       "Approximately 76 percent of refugees reported living with Korean-Chinese. Another 5 "
       "percent cite 'missionaries' ... Over 5 percent reported living in the mountains or on "
       "the street.",
       "share living with Korean-Chinese > 0.5 and share in the mountains / street > 0.05",
       lambda e: e.s(_t("living", "korean_chinese")) > 0.5
       and e.s(_t("living", "mountains_street")) > 0.05, "text"),
    _C("few_aid_beneficiaries", "sec. IV",
       "More than 40 percent of the respondents were unaware of the international food aid "
       "distribution effort; of those who were aware of it, less than 4 percent believed that "
       "they were beneficiaries.",
       "share unaware > 0.40 and beneficiaries / aware < 0.04", _aid, "text"),
    _C("aid_to_military", "sec. IV",
       "most expressed the belief that the aid went to the military (90 percent) or party and "
       "government officials (27 percent)",
       "of the aware, share naming the military > 0.5 and above the share naming officials",
       lambda e: e.s(_t("aid_military", "yes")) > 0.5
       and e.s(_t("aid_military", "yes")) > e.s(_t("aid_officials", "yes")), "text"),
    _C("arrest_main_worry", "sec. IV, Table 4",
       "Their lack of status in China was an overwhelming source of anxiety: Approximately 67 "
       "percent identified fear of arrest and repatriation as their biggest concern",
       "Table 4: arrest share > 0.5",
       lambda e: e.s(_t("anxiety_reason", "arrest")) > 0.5, "text"),
    _C("hunger_not_a_worry", "sec. IV, Table 4",
       "hunger is not a widely reported source of contemporaneous concern, at least among "
       "North Koreans who have made it to China",
       "Table 4: hunger share < 0.05",
       lambda e: e.s(_t("anxiety_reason", "hunger")) < 0.05, "text"),
    _C("separation_by_crossing", "sec. IV, Table 5",
       "In 59 percent of these cases, this was associated with family members crossing the "
       "border into China; the second most cited reason was disappearance after traveling "
       "without permission (table 5). Disappearance for speaking out against the regime was "
       "relatively rare (2 percent).",
       "Table 5 panel B: crossing the most cited reason, traveling the second, speaking < 0.05",
       _separation, "text"),
    _C("children_left_behind", "sec. IV",
       "In 66 percent of these cases, the children were left behind in North Korea",
       "of those separated from children, share left behind > 0.5",
       lambda e: e.s(_t("children_separation_why", "left_in_nk")) > 0.5, "text"),
    _C("detainees_witnessed", "sec. IV, Table 6",
       "Among those incarcerated in political detention facilities, 90 percent reported "
       "witnessing forced starvation, 60 percent reported witnessing deaths due to beating or "
       "torture, 27 percent reported witnessing executions (table 6).",
       "of the detained, starvation > 0.5 and starvation > torture deaths > executions",
       _witness, "text"),
    _C("family_still_in_nk", "sec. VI",
       "the overwhelming majority of respondents - 90 percent - reported still having family "
       "there", "share with family in North Korea > 0.75",
       lambda e: e.s(_t("family_in_nk", "1")) > 0.75, "text"),
    _C("quarter_repatriated", "sec. VI",
       "More than a quarter of the sample had been repatriated, and of those, 25 percent (83) "
       "had been repatriated twice and another 15 percent (49) had been repatriated three or "
       "more times",
       "share repatriated at least once > 0.25",
       lambda e: 1.0 - e.s(_t("repatriations", "none")) > 0.25, "text"),
    _C("students_plan_return", "sec. VI",
       "When asked if they planned future returns, the only group with a markedly higher "
       "propensity to return was students (31 percent)",
       "share planning to return higher among students than the rest, chi-square (plans x "
       "student) p < 0.05", _students_return, "text"),
    _C("return_for_money", "sec. VI",
       "the overwhelming majority cited the effort to bring money (80 percent) or food (11 "
       "percent) back to North Korea; only a very small share returned to do business or "
       "because they found prospects in China bleak",
       "of those who returned, money > 0.5 and money + food > 0.75",
       lambda e: e.s(_t("return_reason", "money")) > 0.5
       and e.s(_t("return_reason", "money")) + e.s(_t("return_reason", "food")) > 0.75,
       "text"),
    _C("wages_unfair", "sec. VI",
       "the finding that 7 out of 8 respondents believe that they are being treated unfairly "
       "is striking", "share paid little or nothing > 0.75",
       lambda e: e.s(_t("wage", "little")) + e.s(_t("wage", "none")) > 0.75, "text"),
    _C("few_want_north_korea", "sec. VI, Table 8",
       "The vast majority of North Korean refugees in China do not want to return to their "
       "country of origin (table 8).",
       "Table 8: share preferring North Korea < 0.1",
       lambda e: e.s(_t("dest", "north_korea")) < 0.1, "text"),
)

CLAIM_IDS: tuple[str, ...] = tuple(c.id for c in CLAIMS)
CLAIMS_BY_ID: dict[str, Claim] = {c.id: c for c in CLAIMS}


def evaluate_claim(claim: Claim, result) -> object:
    """One claim on one result: True/False, or ``pd.NA`` when not evaluable."""
    try:
        return bool(claim.predicate(Evidence(result)))
    except NotEvaluable:
        return pd.NA


def evaluate_claims(result, n_ref: float | None = None) -> pd.Series:
    """Every claim on ``result`` (a SuiteResult), indexed by claim id (nullable boolean).

    ``n_ref``: judge significance as if every fit and test had ``n_ref`` observations
    (for the census fit: the population's answer at the paper's sample size, 1,346).
    """
    ev = Evidence(result, n_ref)
    out = []
    for c in CLAIMS:
        try:
            out.append(bool(c.predicate(ev)))
        except NotEvaluable:
            out.append(pd.NA)
    return pd.Series(out, index=pd.Index(CLAIM_IDS, name="claim"), dtype="boolean")


def claims_frame() -> pd.DataFrame:
    """The registry as a table: id, where, sentence, test, origin."""
    return pd.DataFrame(
        [{"claim": c.id, "where": c.where, "sentence": c.sentence, "test": c.test,
          "origin": c.origin} for c in CLAIMS]
    )
