"""The real unit (world -> design -> suite -> claims) through the engine, once, small.

Checks the wiring against Contracts 2-6: record shapes follow ``suite_layout()`` and
``CLAIM_IDS``, the estimand is the census fit, and replication 0 of the engine equals
a hand-made replication built from the Contract 6 seeds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim_refugee.engine import load_experiment, open_results, run_experiment

CFG = """
[experiment]
name = "suite_small"
unit = "paper_suite"
root_seed = 5
replications = 1
chunk_size = 1

[world]
size = 1500

[unit]
include_variants = false

[[designs]]
name = "paper"

[sample]
n = 300
"""


@pytest.mark.slow
def test_paper_suite_unit_end_to_end(tmp_path: Path) -> None:
    from sim_refugee.claims import CLAIM_IDS, evaluate_claims
    from sim_refugee.designs import get_design
    from sim_refugee.seeds import rng_for, seed_sequence
    from sim_refugee.suite import run_suite, suite_layout
    from sim_refugee.world import WorldConfig, build_population

    cfg = tmp_path / "suite.toml"
    cfg.write_text(CFG)
    exp = load_experiment(cfg)
    run_experiment(exp, tmp_path / "out", progress=False)
    res = open_results(tmp_path / "out")
    lay = suite_layout()
    assert res.sizes["model_term"] == len(lay.model_terms)
    assert list(res["claim"].values) == list(CLAIM_IDS)
    assert (res["rep_status"] == "ok").all(), res["rep_message"].values
    assert (res["estimand_status"] != "failed").all()
    # footnote variants were not asked for: skipped, not failed
    assert set(np.unique(res["model_status"].sel(model=[m for m in lay.models
                                                        if m.startswith("t7ne_")]).values)) \
        == {"skipped"}

    # replication 0 of the paper design, by hand from the Contract 6 seeds
    pop = build_population(WorldConfig(size=1500), seed_sequence(5, "population", 0))
    design = get_design("paper")
    params = design.Params()
    state = design.prepare(pop, params, rng_for(5, "prepare", 0, "paper"))
    sample = design.draw(pop, state, 300, params, rng_for(5, "sample", 0, 0))
    hand = run_suite(sample, include_variants=False)
    got = res["estimates"].sel(condition="c000", population=0, design="paper", replication=0)
    want = hand.estimates.set_index(["model", "term"]).reindex(list(lay.model_terms))
    np.testing.assert_array_equal(got.sel(statistic="estimate").values,
                                  want["estimate"].to_numpy(dtype=float))
    claims = evaluate_claims(hand).astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    np.testing.assert_array_equal(
        res["claims"].sel(condition="c000", population=0, design="paper", replication=0).values,
        claims)

    from sim_refugee.diagnosis import diagnose

    d = diagnose(res)
    # the skipped variants are neither run nor failed: no failure rate at all
    ne = [m for m in lay.models if m.startswith("t7ne_")]
    assert np.isnan(d["failure_rate"].sel(condition="c000", design="paper", model=ne)).all()
    ok_models = [m for m in lay.models if not m.startswith(("t7ne_", "t7yr_"))]
    assert np.isfinite(d["failure_rate"].sel(condition="c000", design="paper",
                                             model=ok_models)).all()
