"""Convenience + probability reference sample (designs/convref.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from sim_refugee.designs.combined.convref import DESIGN, ConvRefParams
from sim_refugee.designs.paper import DESIGN as PAPER
from sim_refugee.seeds import seed_sequence
from sim_refugee.world import WorldConfig, build_population


@pytest.fixture(scope="module")
def world_pop() -> pd.DataFrame:
    return build_population(WorldConfig(size=20_000), seed_sequence(16, "population", 0))


def test_parts_sizes_weights_and_common_random_numbers(world_pop):
    params = ConvRefParams(reference_n=250)
    state = DESIGN.prepare(world_pop, params, np.random.default_rng(1))
    s = DESIGN.draw(world_pop, state, 400, params, np.random.default_rng(7))
    assert s["source"].value_counts().to_dict() == {"convenience": 400, "reference": 250}
    ref = s[s["source"] == "reference"]
    # SRS reference: every design weight N / n, summing to the population size
    np.testing.assert_allclose(ref["weight"], len(world_pop) / 250)
    # the convenience part is the paper design's draw on the first spawned child, and
    # does not move when the reference sample is resized
    conv_rng = np.random.default_rng(7).spawn(2)[0]
    alone = PAPER.draw(world_pop, state.paper, 400, params.convenience, conv_rng)
    conv = s[s["source"] == "convenience"].drop(columns="source").reset_index(drop=True)
    pd.testing.assert_frame_equal(conv, alone.reset_index(drop=True))
    bigger = DESIGN.draw(world_pop, state, 400, ConvRefParams(reference_n=500),
                         np.random.default_rng(7))
    assert (bigger.loc[bigger["source"] == "convenience", "person_id"].to_numpy()
            == conv["person_id"].to_numpy()).all()


def test_unknown_key_is_refused():
    with pytest.raises(ValidationError, match="reference_size"):
        ConvRefParams.model_validate({"reference_size": 300})
