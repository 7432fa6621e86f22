"""Every claim's predicate on HAND-BUILT estimates: one set where it must hold, and for
each claim a minimal change where it must fail. The base set is the paper's own printed
Table 7 / Table 9 (sign and stars of each legible cell), with magnitudes set by hand
where the printed digits are lost, and descriptive scalars set by hand to the text's
numbers. Expected truth values are written out here, not computed by the code."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim_refugee.claims import CLAIM_IDS, CLAIMS, CLAIMS_BY_ID, evaluate_claims
from sim_refugee.suite import SuiteResult, suite_layout
from sim_refugee.suite.paper_cells import T7_CELLS, T9_CELLS, T9_MODELS
from sim_refugee.suite.specs import T7_ITEMS

P_OF_STARS = {"***": 0.0005, "**": 0.005, "*": 0.03, " ns": 0.5}
MAGNITUDE = {"?.??": 1.5, "?.00": 1.0, "?.?0": 1.3, "?.0?": 1.05, "0.??": 0.5, "0.?0": 0.3,
             "0.0?": 0.05, "0.00": 0.001}


def cell(pattern: str) -> tuple[float, float]:
    """(b, p) for a printed cell like '-0.??***' (test input, hand-coded rule)."""
    for st in ("***", "**", "*", " ns"):
        if pattern.endswith(st):
            body, p = pattern[: -len(st)], P_OF_STARS[st]
            break
    sign = -1.0 if body.startswith("-") else 1.0
    return sign * MAGNITUDE[body.lstrip("-")], p


def paper_estimates() -> dict[tuple[str, str], tuple[float, float]]:
    est = {}
    for term, cells in T7_CELLS.items():
        for item, c in zip(T7_ITEMS, cells, strict=True):
            est[(f"t7_{item}", term)] = cell(c)
    for term, cells in T9_CELLS.items():
        for model, c in zip(T9_MODELS, cells, strict=True):
            if c is not None:
                est[(model, term)] = cell(c)
    # Magnitudes the printed digits cannot decide (the text's claims fix them):
    # food aid largest of the experiential coefficients except in concentrate (death).
    for item in T7_ITEMS:
        est[(f"t7_{item}", "foodaid")] = (0.9 if item != "concentrate" else 0.6, 0.0005)
    est[("t7_anger", "foodaid")] = (1.0, 0.0005)
    est[("t7_attain", "foodaid")] = (1.5, 0.0005)
    est[("t7_hope", "foodaid")] = (1.3, 0.0005)
    est[("t7_concentrate", "death")] = (0.8, 0.0005)
    # Footnote variants: northeast and years in China not significant.
    for item in T7_ITEMS:
        est[(f"t7ne_{item}", "northeast")] = (0.05, 0.5)
        est[(f"t7yr_{item}", "years_in_china")] = (0.01, 0.6)
    return est


def paper_scalars() -> dict[str, float]:
    s = {
        "share.china_spell.>3y.female": 0.41, "share.china_spell.>3y.male": 0.23,
        "chi2_p.china_spell": 1e-6,
        "share.camp.1.male": 0.12, "share.camp.1.female": 0.075, "chi2_p.camp": 0.005,
        "chi2_p.arrest": 0.4,
        "share.dest.south_korea.total": 0.64, "share.dest.united_states.total": 0.19,
        "share.dest.china.total": 0.14, "share.dest.north_korea.total": 0.02,
        "share.dest.other.total": 0.01,
        "agree.anxious.total": 0.8,
        "share.death.1.female": 0.37, "share.death.1.male": 0.235,
        "share.anxiety_reason.arrest.female": 0.70, "share.anxiety_reason.arrest.male": 0.64,
        "share.anxiety_reason.home.female": 0.09, "share.anxiety_reason.home.male": 0.20,
    }
    # the text's further numbers (issue 11), as printed (sec. II-VI, Tables 4-6)
    s.update({
        "share.leave_reason.economic.total": 0.95, "share.leave_reason.political.total": 0.02,
        "share.help_leaving.1.total": 0.75, "share.help_paid.yes.total": 0.55,
        "share.help_ngo.1.total": 0.01, "share.help_korean_chinese.1.total": 0.88,
        "share.living.korean_chinese.total": 0.76, "share.living.mountains_street.total": 0.06,
        "share.aid_status.unaware.total": 0.41, "share.aid_status.excluded.total": 0.57,
        "share.aid_status.beneficiary.total": 0.02,
        "share.aid_military.yes.total": 0.90, "share.aid_officials.yes.total": 0.27,
        "share.anxiety_reason.arrest.total": 0.67, "share.anxiety_reason.hunger.total": 0.009,
        "share.family_missing_why.speaking.total": 0.02,
        "share.family_missing_why.traveling.total": 0.20,
        "share.family_missing_why.crossing.total": 0.59,
        "share.family_missing_why.stealing.total": 0.03,
        "share.family_missing_why.dont_know.total": 0.16,
        "share.children_separation_why.left_in_nk.total": 0.66,
        "share.witness_starvation.yes.total": 0.90, "share.witness_torture_death.yes.total": 0.60,
        "share.witness_executions.yes.total": 0.27, "share.family_in_nk.1.total": 0.90,
        "share.repatriations.none.total": 0.74,
        "share.plan_return.by_student.1.student": 0.31,
        "share.plan_return.by_student.1.not_student": 0.10,
        "chi2_p.plan_return.by_student": 0.001,
        "share.return_reason.money.total": 0.80, "share.return_reason.food.total": 0.11,
        "share.wage.little.total": 0.78, "share.wage.none.total": 0.09,
    })
    means = {"anxious": 3.1, "fear": 2.6, "fearfamily": 3.0, "anger": 2.4, "concentrate": 2.3,
             "attain": 2.7, "hope": 2.5, "badthings": 3.05, "unsure_future": 2.6}
    for item, m in means.items():
        s[f"mean.{item}.total"] = m
        s[f"mean.{item}.female"] = m + 0.1
        s[f"mean.{item}.male"] = m - 0.1
    return s


def make_result(est: dict, scal: dict, status: dict | None = None) -> SuiteResult:
    layout = suite_layout()
    rows = pd.DataFrame(layout.model_terms, columns=["model", "term"])
    bp = [est.get(k, (np.nan, np.nan)) for k in layout.model_terms]
    rows["estimate"] = [b for b, _ in bp]
    rows["se"] = np.nan
    rows["pvalue"] = [p for _, p in bp]
    rows["nobs"] = 1000.0
    rows["status"] = [(status or {}).get(m, "ok") for m in rows["model"]]
    scalars = pd.Series(scal, dtype=float).reindex(list(layout.scalars))
    empty = pd.DataFrame()
    return SuiteResult(rows, empty, empty, scalars)


def test_registry_covers_targets_yaml_and_issue():
    targets_ids = {
        "death_all7", "foodaid_all7", "camp_6of7", "trafficking_6of7", "arrest_4of7",
        "foodaid_largest_6of7", "famine_largest_all7", "experiential_dwarf_demographic",
        "female_2of7", "age_5of7", "elementary_fear3", "trader_distress", "farmer_future",
        "student_hopeful", "province_null_psych", "time_in_china_null_psych", "avgpsych_job",
        "inchina_job", "children_job", "trafficking_job", "educ_us_7of8", "educ_sk_negative",
        "age_us", "northeast_us", "trafficking_us", "camp_death_fragile",
        "women_longer_in_china", "men_more_detained", "arrest_no_gender_gap",
        "women_more_arrest_fear", "sk_most_preferred", "majority_distressed",
    }
    assert targets_ids <= set(CLAIM_IDS)
    assert len(set(CLAIM_IDS)) == len(CLAIM_IDS)
    for c in CLAIMS:
        assert c.sentence and c.where and c.test


def test_printed_tables_satisfy_the_text_except_where_the_paper_contradicts_itself():
    res = evaluate_claims(make_result(paper_estimates(), paper_scalars()))
    # The printed SK-P(1) camp cell is -0.??* although the text says camp becomes
    # insignificant (NOTES.md A.7): the paper's own table fails that claim.
    expected_false = {"camp_death_fragile"}
    assert res.notna().all(), res[res.isna()]
    assert set(res[~res.astype(bool)].index) == expected_false


# One minimal change per claim that must make it False (b, p overrides or scalars).
E = "est"
S = "scal"
FALSE_CASES: dict[str, dict] = {
    "death_all7": {E: {("t7_hope", "death"): (0.5, 0.2)}},
    "foodaid_all7": {E: {("t7_fear", "foodaid"): (-0.9, 0.001)}},
    "camp_6of7": {E: {("t7_fear", "camp"): (0.5, 0.08)}},
    "trafficking_6of7": {E: {("t7_anger", "trafficking"): (0.5, 0.051)}},
    "arrest_4of7": {E: {("t7_hope", "arrest"): (0.5, 0.2)}},
    "foodaid_largest_6of7": {E: {("t7_concentrate", "death"): (0.5, 0.001)}},
    "famine_largest_all7": {E: {("t7_fear", "camp"): (2.0, 0.001)}},
    "experiential_dwarf_demographic": {E: {(f"t7_{i}", "age"): (9.0, 0.001) for i in T7_ITEMS}},
    "female_2of7": {E: {("t7_hope", "female"): (0.3, 0.01)}},
    "age_5of7": {E: {("t7_hope", "age"): (0.3, 0.3)}},
    "elementary_fear3": {E: {("t7_attain", "elementary"): (-0.5, 0.01)}},
    "trader_distress": {E: {("t7_fear", "trader"): (-0.5, 0.5)}},
    "farmer_future": {E: {("t7_attain", "farmer"): (0.5, 0.06)}},
    "student_hopeful": {E: {("t7_hope", "student"): (0.5, 0.001)}},
    "province_null_psych": {E: {("t7ne_anger", "northeast"): (0.2, 0.04)}},
    "time_in_china_null_psych": {E: {(f"t7yr_{i}", "years_in_china"): (0.2, 0.01)
                                     for i in ("anxious", "fear", "anger", "hope")}},
    "avgpsych_job": {E: {("t9_2spls_job", "avgpsych"): (-1.5, 0.002)}},
    "inchina_job": {E: {("t9_2spls_job", "years_in_china"): (0.5, 0.001)}},
    "children_job": {E: {("t9_2spls_job", "children"): (0.5, 0.07)}},
    "trafficking_job": {E: {("t9_2spls_job", "trafficking"): (-0.5, 0.001)}},
    "educ_us_7of8": {E: {("t9_us_p2", "postsecondary"): (0.5, 0.2)}},
    "educ_sk_negative": {E: {("t9_sk_p2", "secondary"): (-0.5, 0.2),
                             ("t9_sk_p3", "secondary"): (0.5, 0.01)}},
    "age_us": {E: {("t9_us_p3", "age"): (-0.5, 0.09)}},
    "northeast_us": {E: {("t9_sk_p2", "northeast"): (-0.5, 0.01)}},
    "trafficking_us": {E: {("t9_us_p2", "trafficking"): (0.3, 0.3)}},
    "camp_death_fragile": {E: {("t9_sk_p1", "camp"): (-0.5, 0.3),
                               ("t9_us_p4", "death"): (0.5, 0.3)}},
    "women_longer_in_china": {S: {"chi2_p.china_spell": 0.2}},
    "men_more_detained": {S: {"share.camp.1.female": 0.13}},
    "arrest_no_gender_gap": {S: {"chi2_p.arrest": 0.01}},
    "women_more_arrest_fear": {S: {"share.anxiety_reason.home.female": 0.25}},
    "sk_most_preferred": {S: {"share.dest.china.total": 0.25}},
    "majority_distressed": {S: {"agree.anxious.total": 0.45}},
    "foodaid_gt_camp_all7": {E: {("t7_concentrate", "camp"): (0.7, 0.5)}},
    "occupation_matters": {E: {(f"t7_{i}", o): (0.1, 0.5) for i in ("anxious", "fear", "anger")
                               for o in ("farmer", "trader", "student", "other_job")}},
    "women_more_fear": {S: {"mean.badthings.female": 2.9}},
    "status_items_highest": {S: {"mean.unsure_future.total": 3.02}},
    "women_more_famine_death": {S: {"share.death.1.male": 0.40}},
    "job_demographics_null": {E: {("t9_2spls_job", "age"): (0.3, 0.02)}},
    "student_sk": {E: {("t9_sk_p3", "student"): (-0.3, 0.2)}},
    "province_only_us": {E: {("t9_sk_p1", "pyongyang"): (-0.5, 0.01)}},
    "demographics_dominate_destination": {
        E: {("t9_sk_p1", t): (0.5, 0.001) for t in ("foodaid", "arrest", "trafficking", "death")}
        | {(m, t): (0.1, 0.5) for m in ("t9_us_p1", "t9_us_p2", "t9_us_p3", "t9_us_p4")
           for t in ("northeast", "age", "secondary", "postsecondary")}},
    "economy_main_reason": {S: {"share.leave_reason.political.total": 0.12}},
    "helped_out_paid": {S: {"share.help_paid.yes.total": 0.48}},
    "ngo_minor": {S: {"share.help_ngo.1.total": 0.06}},
    "korean_chinese_help": {S: {"share.help_korean_chinese.1.total": 0.7}},
    "live_with_korean_chinese": {S: {"share.living.mountains_street.total": 0.045}},
    "few_aid_beneficiaries": {S: {"share.aid_status.beneficiary.total": 0.03}},  # 0.03/0.60
    "aid_to_military": {S: {"share.aid_officials.yes.total": 0.92}},
    "arrest_main_worry": {S: {"share.anxiety_reason.arrest.total": 0.45}},
    "hunger_not_a_worry": {S: {"share.anxiety_reason.hunger.total": 0.06}},
    "separation_by_crossing": {S: {"share.family_missing_why.dont_know.total": 0.21}},
    "children_left_behind": {S: {"share.children_separation_why.left_in_nk.total": 0.45}},
    "detainees_witnessed": {S: {"share.witness_executions.yes.total": 0.65}},
    "family_still_in_nk": {S: {"share.family_in_nk.1.total": 0.7}},
    "quarter_repatriated": {S: {"share.repatriations.none.total": 0.76}},
    "students_plan_return": {S: {"chi2_p.plan_return.by_student": 0.2}},
    "return_for_money": {S: {"share.return_reason.money.total": 0.55,
                             "share.return_reason.food.total": 0.1}},  # money + food 0.65
    "wages_unfair": {S: {"share.wage.little.total": 0.6}},
    "few_want_north_korea": {S: {"share.dest.north_korea.total": 0.12}},
}
# A change that keeps the claim TRUE although it moves the same numbers (guards against
# predicates that are false for any perturbation).
TRUE_CASES: dict[str, dict] = {
    "camp_6of7": {E: {("t7_concentrate", "camp"): (0.5, 0.01)}},  # 7 of 7 is >= 6
    "age_5of7": {E: {("t7_fear", "age"): (0.3, 0.01)}},  # 6 of 7, all positive
    "female_2of7": {E: {("t7_hope", "female"): (0.3, 0.2)}},
    "arrest_no_gender_gap": {S: {"chi2_p.arrest": 0.05}},  # p = 0.05 is not < 0.05
    "time_in_china_null_psych": {E: {(f"t7yr_{i}", "years_in_china"): (0.2, 0.01)
                                     for i in ("anxious", "fear", "anger")}},
    "avgpsych_job": {E: {("t9_2spls_job", "avgpsych"): (-1.5, 0.0009)}},
    "educ_us_7of8": {E: {("t9_us_p1", "postsecondary"): (0.5, 0.04)}},
}


def test_every_claim_has_a_false_case():
    assert set(FALSE_CASES) == set(CLAIM_IDS)


def _apply(case: dict):
    est, scal = paper_estimates(), paper_scalars()
    # base where every claim holds: the SK-P(1) camp cell made n.s. (text version)
    est[("t9_sk_p1", "camp")] = (-0.3, 0.3)
    est.update(case.get(E, {}))
    scal.update(case.get(S, {}))
    return make_result(est, scal)


@pytest.mark.parametrize("claim_id", CLAIM_IDS)
def test_claim_true_on_base_and_false_on_its_counterexample(claim_id):
    assert bool(evaluate_claims(_apply({}))[claim_id]) is True
    assert bool(evaluate_claims(_apply(FALSE_CASES[claim_id]))[claim_id]) is False


@pytest.mark.parametrize("claim_id", sorted(TRUE_CASES))
def test_claim_true_on_boundary_cases(claim_id):
    assert bool(evaluate_claims(_apply(TRUE_CASES[claim_id]))[claim_id]) is True


def test_failed_fit_or_missing_table_makes_claims_not_evaluable():
    est, scal = paper_estimates(), paper_scalars()
    res = make_result(est, scal, status={"t7_hope": "not_converged"})
    out = evaluate_claims(res)
    assert out["death_all7"] is pd.NA and out["avgpsych_job"] is not pd.NA
    del scal["share.anxiety_reason.home.male"]
    out = evaluate_claims(make_result(est, scal))
    assert out["women_more_arrest_fear"] is pd.NA
    assert out.dtype == "boolean" and list(out.index) == list(CLAIM_IDS)
    est[("t9_2spls_job", "children")] = (np.nan, np.nan)
    assert evaluate_claims(make_result(est, scal))["children_job"] is pd.NA


def test_avgpsych_claim_uses_its_own_threshold():
    assert "0.001" in CLAIMS_BY_ID["avgpsych_job"].test


def test_n_ref_rescales_significance_to_a_smaller_sample():
    est, scal = paper_estimates(), paper_scalars()
    res = make_result(est, scal)
    res.estimates["se"] = 0.01
    res.estimates["nobs"] = 100_000.0
    # children in the job equation: b = 0.5, se 0.01 -> z = 50 at N = 100,000;
    # at n_ref = 1,000 the SE is 0.01 * 10 = 0.1 -> z = 5: still significant.
    # A coefficient of 0.05 (z = 5 at the census) drops to z = 0.5 (p = 0.62).
    m = (res.estimates["model"] == "t9_2spls_job") & (res.estimates["term"] == "children")
    assert bool(evaluate_claims(res, n_ref=1000)["children_job"]) is True
    res.estimates.loc[m, "estimate"] = 0.05
    res.estimates.loc[m, "pvalue"] = 1e-6
    assert bool(evaluate_claims(res)["children_job"]) is True
    assert bool(evaluate_claims(res, n_ref=1000)["children_job"]) is False
    # Pearson X2 = 20 on 1 df with 100,000 rows -> 0.2 at n_ref = 1,000 (p = 0.65)
    res.tests = pd.DataFrame({"table": ["text"], "item": ["arrest"], "statistic": [20.0],
                              "df": [1.0], "pvalue": [7.7e-6], "nobs": [100_000]})
    res.scalars["chi2_p.arrest"] = 7.7e-6
    assert bool(evaluate_claims(res)["arrest_no_gender_gap"]) is False
    assert bool(evaluate_claims(res, n_ref=1000)["arrest_no_gender_gap"]) is True
