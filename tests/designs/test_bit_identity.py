"""Moving the designs onto the template (designs/base.py) changed no sample.

``REFERENCE`` holds, per design and parameter set, a fingerprint of the sample that the
code BEFORE the template (commit fa5f7ad, each design closing its own draw) drew at the
seeds below; it was computed by running ``fingerprints()`` of this file against that
commit (``PYTHONPATH=<checkout of fa5f7ad>/src python3 -m tests.designs.test_bit_identity``
from the repository root).
The population is the synthetic one of conftest.py with the three columns the paper
design's reach needs, and every parameter that defaults to a named assumption is given
explicitly, so a later change of targets/assumptions.yaml does not touch it. A
deliberate change of a design's draws must regenerate the table (and say so).
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from sim_refugee.designs import get_design
from sim_refugee.seeds import rng_for
from tests.designs.conftest import make_population

PAPER_REACH = {"base": -1.0, "or_urban": 2.0, "or_border": 1.5, "or_korean_chinese": 1.3,
               "or_church": 1.4, "or_time_per_year": 0.95, "or_distress": 1.2,
               "or_worker": 0.8, "or_famine": 1.1}
PARAMS: dict[str, dict] = {
    "paper": {"reach": PAPER_REACH,
              "site_quota": {"Shenyang": 0.4, "Changchun": 0.3, "Harbin": 0.2, "Tumen": 0.1}},
    "srs": {}, "quota": {}, "tls": {}, "rds": {}, "snowball": {},
}
ARTEFACTS = {"duplicate_rate": 0.05, "memorised_rate": 0.2, "memorised_error": 0.3,
             "interviewer_sd": 0.2, "item_nonresponse": "none"}
#: the columns a design's selection and artefacts set (not the assumption-driven blanks)
FINGERPRINT_COLUMNS = ("person_id", "site", "interviewer", "incl_prob", "weight", "anxious",
                       "fear", "hope")


def population() -> pd.DataFrame:
    pop = make_population(20_000, seed=11)
    rng = np.random.default_rng(5)
    pop["years_in_china"] = rng.uniform(0.0, 8.0, len(pop))
    pop["occupation"] = rng.choice(["worker", "farmer", "other"], len(pop))
    pop["foodaid"] = rng.binomial(1, 0.3, len(pop))
    return pop


def fingerprint(sample: pd.DataFrame) -> str:
    """sha256 over the fingerprint columns' exact values (float64 bytes, strings)."""
    h = hashlib.sha256()
    h.update(str(len(sample)).encode())
    for col in FINGERPRINT_COLUMNS:
        v = sample[col]
        if v.dtype == object or isinstance(v.dtype, pd.StringDtype):
            h.update("\x1f".join(map(str, v)).encode())
        else:
            h.update(np.ascontiguousarray(v.to_numpy(dtype=float)).tobytes())
    return h.hexdigest()[:20]


def fingerprints() -> dict[str, str]:
    pop = population()
    out = {}
    for name, base in PARAMS.items():
        design = get_design(name)
        for label, extra in (("default", {"artefacts": {"item_nonresponse": "none"}}),
                             ("artefacts", {"artefacts": ARTEFACTS})):
            params = design.Params.model_validate({**base, **extra})
            state = design.prepare(pop, params, rng_for(15, "prepare", 0, name))
            sample = design.draw(pop, state, 250, params, rng_for(15, "sample", 0, name, label))
            out[f"{name}/{label}"] = fingerprint(sample)
    return out


REFERENCE: dict[str, str] = {
    'paper/default': 'd20f566e8e387a7ebdf3',
    'paper/artefacts': 'f2d6dab67e6e0c2828e8',
    'srs/default': '33b6fad7dd80977bcfb8',
    'srs/artefacts': 'ba1e998c7a2a7d3a0ff0',
    'quota/default': '24baa335c779026ac14c',
    'quota/artefacts': '1cd04d352aae18cc8c29',
    'tls/default': '9229680177ab5f3853cb',
    'tls/artefacts': 'bccc38f4fbced9b85163',
    'rds/default': '10970bb80165381bb2f8',
    'rds/artefacts': '0a9b36db19ec7c995f2d',
    'snowball/default': '924af4f5ba2dd891cc7b',
    'snowball/artefacts': 'e633bb4fdbf764c652a9',
}


def test_every_design_draws_what_it_drew_before_the_template() -> None:
    assert set(REFERENCE) == {f"{d}/{lab}" for d in PARAMS for lab in ("default", "artefacts")}
    assert fingerprints() == REFERENCE


if __name__ == "__main__":
    for key, value in fingerprints().items():
        print(f"    {key!r}: {value!r},")
