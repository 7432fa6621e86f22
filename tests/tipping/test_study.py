"""The paper-suite study config is valid, and the paper suite runs through `tipping`
(a tiny world and budget: the plumbing, not the study, which the lead runs on the final
world)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from sim_refugee.cli import main
from sim_refugee.tipping.config import load_tipping
from sim_refugee.tipping.rootfind import STATUSES

ROOT = Path(__file__).resolve().parents[2]
STUDY = ROOT / "experiments" / "tipping_null_world.toml"


def test_study_config_is_valid_and_declares_the_collider_ray() -> None:
    cfg = load_tipping(STUDY)
    assert cfg.experiment.unit_name == "paper_suite"
    assert cfg.experiment.conditions[0].world["effects"] == "null"
    assert [t.label for t in cfg.targets] == [
        "claim:death_all7", "claim:foodaid_all7", "term:t7_anxious:foodaid",
        "coverage:t7_anxious:foodaid"]
    # t = 0 is the default design; t = 1.5 is about null_world_paper's e1.5_d-1.5 cell
    reach0 = cfg.condition(0, 0).design_params["paper"]["reach"]
    assert reach0 == {"or_famine": 1.0, "or_distress": 1.2}
    mid = cfg.direction.point(1.5)
    assert mid["designs.paper.reach.or_famine"] == pytest.approx(math.exp(1.5))
    assert mid["designs.paper.reach.or_distress"] == pytest.approx(1.2 * math.exp(-1.5))
    assert cfg.solver.max_replications <= 1000  # modest: about 4 minutes on 2 cores


SMOKE = """
[experiment]
name = "tipping_suite_smoke"
unit = "paper_suite"
root_seed = 5
chunk_size = 5

[world]
size = 1500
effects = "null"

[unit]
include_variants = false

[[designs]]
name = "paper"

[sample]
n = 300

[[tipping.targets]]
claim = "death_all7"
[[tipping.targets]]
term = "t7_anxious:foodaid"
[[tipping.targets]]
coverage = "t7_anxious:foodaid"

[tipping.direction]
parameters = ["designs.paper.reach.or_famine", "designs.paper.reach.or_distress"]
origin = [1.0, 1.2]
step = [1.0, -1.0]
scale = "log"
lower = 0.0
upper = 3.0

[tipping.solver]
batch = 5
max_probe_replications = 10
max_replications = 20
confirm_replications = 5
depth = 4
"""


@pytest.mark.slow
def test_paper_suite_through_tipping(tmp_path: Path) -> None:
    cfg = tmp_path / "smoke.toml"
    cfg.write_text(SMOKE)
    assert main(["tipping", str(cfg), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    f = pd.read_csv(tmp_path / "out" / "tipping.csv")
    assert list(f["target"]) == ["claim:death_all7", "term:t7_anxious:foodaid",
                                 "coverage:t7_anxious:foodaid"]
    assert set(f["status"]) <= set(STATUSES)
    assert (f["replications"] <= 20).all() and (f["replications"] >= 10).all()
    # the census fit was read: the claim's truth is judged (false in the null world)
    assert f.loc[0, "truth"] == 0.0
    assert math.isnan(f.loc[2, "truth"])  # not defined for coverage
    assert "at:designs.paper.reach.or_famine" in f.columns
    probes = pd.read_csv(tmp_path / "out" / "probes.csv")
    for t, g in probes.groupby("target"):
        assert g["replications"].sum() == f.set_index("target").loc[t, "replications"]
