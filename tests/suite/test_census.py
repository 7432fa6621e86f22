"""The inquiry on the DEFAULT world (100,000 people, paper effects, table-calibrated):
which claims its census satisfies, which it fails by design (statements about the
paper's sample size) and which it fails as a known gap of the calibration; and, on a
world without the distress channels outside Table 7, the standardized Table 7 census
estimates sit on the generator's structural coefficients."""

from __future__ import annotations

import numpy as np
import pytest

from sim_refugee.claims import CLAIM_IDS, evaluate_claims
from sim_refugee.seeds import seed_sequence
from sim_refugee.suite.inquiry import inquiry

# The table calibration sets the Table 7/9 effects so that the paper design's estimates
# have the printed sign, star band and magnitude class; these claims are about signs
# and strong effects, and they hold in the population too.
BUILT_TO_HOLD = {
    "death_all7", "foodaid_all7", "camp_6of7", "trafficking_6of7", "arrest_4of7",
    "experiential_dwarf_demographic",
    "trader_distress", "farmer_future", "student_hopeful", "avgpsych_job", "inchina_job",
    "children_job", "trafficking_job", "educ_us_7of8", "educ_sk_negative", "age_us",
    "trafficking_us", "women_longer_in_china", "men_more_detained", "arrest_no_gender_gap",
    "sk_most_preferred", "majority_distressed", "occupation_matters",
    "women_more_fear", "status_items_highest", "women_more_famine_death", "student_sk",
    "demographics_dominate_destination", "women_more_arrest_fear",
    # the text's further shares (issue 11): descriptive facts of the world's new variables
    "economy_main_reason", "helped_out_paid", "ngo_minor", "korean_chinese_help",
    "live_with_korean_chinese", "few_aid_beneficiaries", "aid_to_military", "arrest_main_worry",
    "hunger_not_a_worry", "separation_by_crossing", "children_left_behind",
    "detainees_witnessed", "family_still_in_nk", "students_plan_return", "return_for_money",
    "wages_unfair", "few_want_north_korea",
}
# FALSE in the census by design: the paper's margins are SAMPLE margins, and the world is
# calibrated so the paper design's expected sample hits them. 'More than a quarter
# repatriated' holds in that sample (25.5%, repatriated.share), but the arrested, whom
# repatriation follows, are more common in the paper design's sample (27%) than in the
# population (25.2%), and so are the repatriated: the population has 24.6%.
SAMPLE_MARGIN_ONLY = {"quarter_repatriated"}
# FALSE in the census of the table-calibrated world, a known gap of the calibration: the
# solver fits each printed cell's sign, star band and magnitude class, aiming at a z
# inside the band; camp (a rarer experience, so larger SEs) then needs larger
# coefficients than food aid for the same z, and the text's ordering (sec. V: food aid
# largest in 6 of 7) is not one of its targets. In the census camp exceeds food aid in
# anxious, fear and fearfamily.
ORDERING_NOT_CALIBRATED = {"foodaid_largest_6of7", "famine_largest_all7", "foodaid_gt_camp_all7"}
# Deliberately NOT satisfied by the census: each needs some coefficient to be NOT
# significant, but the world gives the paper's 'ns' cells their printed small nonzero
# values (e.g. female 0.0? in fear), and at N = 100,000 every nonzero coefficient is
# significant. These claims describe what a sample of ~1,300 can detect, not the
# population; their reproduction is a question of power, which the engine measures.
# (northeast_us fails on its SK part: northeast lowers the US share, so SK rises.)
SIZE_DEPENDENT = {
    "female_2of7", "age_5of7", "elementary_fear3", "northeast_us", "camp_death_fragile",
    "job_demographics_null", "province_only_us",
}
# Not evaluable here: the footnote variants are not fitted (include_variants=False keeps
# this test short).
NOT_EVALUABLE = {"province_null_psych", "time_in_china_null_psych"}


@pytest.fixture(scope="module")
def default_inquiry():
    from sim_refugee.world import WorldConfig, build_population

    cfg = WorldConfig()
    pop = build_population(cfg, seed_sequence(0, "population", 0))
    return cfg, pop, inquiry(pop, cfg, include_variants=False)


def test_partition_covers_the_registry():
    groups = (BUILT_TO_HOLD, ORDERING_NOT_CALIBRATED, SIZE_DEPENDENT, NOT_EVALUABLE,
              SAMPLE_MARGIN_ONLY)
    assert set().union(*groups) == set(CLAIM_IDS)
    assert sum(len(g) for g in groups) == len(CLAIM_IDS)


@pytest.mark.slow
def test_census_claims_of_the_default_world(default_inquiry):
    _, pop, inq = default_inquiry
    assert len(pop) == 100_000
    claims = inq.claims
    assert set(claims[claims.isna()].index) == NOT_EVALUABLE
    held = set(claims[claims.fillna(False).astype(bool)].index)
    assert held == BUILT_TO_HOLD, {"unexpectedly false": BUILT_TO_HOLD - held,
                                   "unexpectedly true": held - BUILT_TO_HOLD}
    ok = inq.census.estimates["status"].isin(["ok", "skipped"])
    assert ok.all(), inq.census.messages[inq.census.messages != ""]


@pytest.mark.slow
def test_size_dependent_claims_hold_at_the_papers_n(default_inquiry):
    # The explanation above, checked: judged at n = 1,346 (census estimates, SEs scaled
    # to the paper's n), the null-type claims the census fails only for its size hold.
    _, _, inq = default_inquiry
    at_n = evaluate_claims(inq.census, n_ref=1346)
    for cid in ("female_2of7", "age_5of7", "elementary_fear3", "northeast_us",
                "province_only_us"):
        assert bool(at_n[cid]) is True, cid


# The distress channels outside Table 7 (urban residence in China, a Korean-Chinese host,
# a church tie, ...) are omitted variables of the Table 7 model and correlated with its
# regressors, so on the default world the census estimates are the structural
# coefficients plus omitted-variable bias, by design (that is what makes selection on
# those channels matter). The structural mapping is exact only without them.
CHANNELS = ("distress.urban_china", "distress.northeast", "distress.korean_chinese_host",
            "distress.church_tie", "distress.years_in_china")


@pytest.fixture(scope="module")
def channel_free_inquiry():
    from sim_refugee.world import WorldConfig, build_population

    cfg = WorldConfig(assumptions=dict.fromkeys(CHANNELS, 0.0))
    pop = build_population(cfg, seed_sequence(0, "population", 0))
    return cfg, pop, inquiry(pop, cfg, include_variants=False)


@pytest.mark.slow
def test_standardized_census_matches_structural_coefficients(channel_free_inquiry):
    _, _, inq = channel_free_inquiry
    m = inq.structural.merge(inq.census.estimates, on=["model", "term"])
    assert len(m) == 84
    diff = (m["estimate"] - m["value"]).abs()
    # Census SEs are 0.006-0.035 (the population is itself one random draw of 100,000),
    # and the order-3 Hermite density only approximates the world's two-component
    # mixture, so exact agreement is not expected. A scale mismatch (raw instead of
    # standardized, or a wrong error sd) shifts whole columns by 5-15%; these bounds
    # catch that while allowing ~4 SE of noise.
    assert diff.mean() < 0.03
    assert (diff < 4 * m["se"] + 0.05).all(), m.loc[diff >= 4 * m["se"] + 0.05]
    assert np.corrcoef(m["estimate"], m["value"])[0, 1] > 0.99
