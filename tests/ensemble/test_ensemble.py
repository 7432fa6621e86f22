"""World ensembles: seeded designs, end-to-end runs that are bit-identical across
backends and after a resume, and the across-worlds summary (toy unit: fast, and its
answers are known)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim_refugee.cli import main
from sim_refugee.engine import load_experiment, open_results, run_experiment
from sim_refugee.engine.config import BackendSection
from sim_refugee.ensemble.spec import EnsembleSpec, design_points, resolved_ranges
from sim_refugee.errors import UserInputError
from tests.engine.conftest import assert_bit_identical, toy_config

ENSEMBLE = """
[world.ensemble]
worlds = {worlds}
method = "{method}"
seed = {seed}
vary = ["mean_y", "effect"]
recalibrate = false
ranges = {{ mean_y = [-0.2, 0.4], effect = [0.0, 1.0] }}
"""


def _cfg(tmp: Path, name: str = "ens.toml", worlds: int = 5, method: str = "lhs",
         seed: int = 3, reps: int = 20) -> Path:
    p = toy_config(tmp, name, reps=reps, chunk=10, designs=("srs",), n="60")
    text = p.read_text().replace("[world]\nsize = 2000\n", "[world]\nsize = 2000\n" + ENSEMBLE.format(
        worlds=worlds, method=method, seed=seed))
    p.write_text(text)
    return p


@pytest.mark.parametrize("method", ["lhs", "sobol"])
def test_points_are_seeded_space_filling_and_differ(method):
    spec = EnsembleSpec(worlds=8, method=method, seed=5, vary=["mean_y", "effect"],
                        ranges={"mean_y": [0.0, 1.0], "effect": [-1.0, 1.0]})
    a, b = design_points(spec), design_points(spec)
    assert a == b  # a rerun is identical
    other = design_points(spec.model_copy(update={"seed": 6}))
    assert a != other  # another seed, other worlds
    x = np.array([[p["mean_y"], p["effect"]] for p in a])
    assert len({tuple(r) for r in x}) == 8  # every world differs
    assert (x[:, 0] >= 0).all() and (x[:, 0] <= 1).all() and (x[:, 1] >= -1).all()
    if method == "lhs":  # one point in each of the 8 strata of every coordinate
        assert sorted(np.floor(x[:, 0] * 8).astype(int)) == list(range(8))


def test_default_ranges_come_from_the_assumptions():
    spec = EnsembleSpec(worlds=4, vary=["assumptions.exposure.corr", "selection.or_urban"])
    r = resolved_ranges(spec)
    assert r["assumptions.exposure.corr"] == (0.0, 0.6)
    assert r["selection.or_urban"] == (1.0, 4.0)
    with pytest.raises(UserInputError, match="no default range"):
        resolved_ranges(EnsembleSpec(worlds=4, vary=["assumptions.age.scale"]))
    with pytest.raises(UserInputError, match="unknown assumption"):
        resolved_ranges(EnsembleSpec(worlds=4, vary=["assumptions.no.such"]))


def test_worlds_become_conditions(tmp_path):
    exp = load_experiment(_cfg(tmp_path))
    assert len(exp.conditions) == 5
    ys = [c.world["mean_y"] for c in exp.conditions]
    assert len(set(ys)) == 5 and all(-0.2 <= y <= 0.4 for y in ys)
    assert [c.overrides["ensemble.world"] for c in exp.conditions] == list(range(5))


def test_bad_ensemble_is_refused_naming_the_key(tmp_path, capsys):
    p = _cfg(tmp_path)
    p.write_text(p.read_text().replace("worlds = 5", "worlds = 1"))
    assert main(["run", str(p), "--out", str(tmp_path / "r")]) == 2
    assert "world.ensemble.worlds" in capsys.readouterr().err
    p.write_text(p.read_text().replace("worlds = 1", "worlds = 4").replace(
        "recalibrate = false", "recalibrate = true"))
    assert main(["run", str(p), "--out", str(tmp_path / "r")]) == 2
    assert "world.ensemble.recalibrate" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_ensemble_runs_end_to_end_identically_across_backends_and_resume(tmp_path):
    exp = load_experiment(_cfg(tmp_path))
    run_experiment(exp, tmp_path / "serial", progress=False)
    run_experiment(exp, tmp_path / "loky", backend=BackendSection(kind="loky", workers=2),
                   progress=False)
    a, b = open_results(tmp_path / "serial"), open_results(tmp_path / "loky")
    assert_bit_identical(a, b)
    # interrupted: drop two chunks and the collected file, resume
    chunks = sorted((tmp_path / "serial").rglob("*.nc"))
    for c in [c for c in chunks if c.name != "results.nc"][:2]:
        c.unlink()
    (tmp_path / "serial" / "results.nc").unlink()
    summary = run_experiment(exp, tmp_path / "serial", resume=True, progress=False)
    assert summary["computed_reps"] > 0
    assert_bit_identical(open_results(tmp_path / "serial"), b)


def test_summary_separates_worlds_from_monte_carlo(tmp_path):
    run = tmp_path / "run"
    run_experiment(load_experiment(_cfg(tmp_path, worlds=8, reps=40)), run, progress=False)
    assert main(["diagnose", str(run)]) == 0
    info = json.loads((run / "ensemble.json").read_text())
    assert len(info["points"]) == 8
    across = pd.read_csv(run / "ensemble.csv").set_index("measure")
    # "mean of y is positive" depends on mean_y (-0.2 .. 0.4 with n = 60, sd 1): its rate
    # really differs between worlds, far beyond Monte Carlo noise
    row = across.loc["reproduction_rate:y_mean_positive"]
    assert row["var_between"] > 4 * row["var_mc"] and row["between_share"] > 0.8
    drivers = pd.read_csv(run / "ensemble_drivers.csv")
    d = drivers[drivers["measure"] == "reproduction_rate:y_mean_positive"].set_index("unknown")
    assert d.loc["mean_y", "effect_low_to_high"] > 0.5  # from ~0 to ~1 across the range
    assert d.loc["mean_y", "first_order_share"] > d.loc["effect", "first_order_share"]
    worlds = pd.read_csv(run / "ensemble_worlds.csv")
    assert set(worlds["world"]) == set(range(8))
    assert "Across the worlds" in (run / "ensemble.md").read_text()
