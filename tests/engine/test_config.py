"""Malformed experiment configs are rejected before anything runs: exit 2, the message
names the dotted key, and no output folder is created."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim_refugee.cli import main
from sim_refugee.engine.config import load_experiment

GOOD = """
[experiment]
name = "t"
unit = "toy"
root_seed = 1
replications = 5
chunk_size = 5

[world]
size = 500

[[designs]]
name = "srs"

[sample]
n = 50
"""

# (what is wrong, text replaced in GOOD (old -> new) or appended, key named in the error)
CASES = [
    ("unknown top-level key", ("", "\n[extras]\nfoo = 1\n"), "extras"),
    ("unknown key in a section", ("chunk_size = 5", "chunk_size = 5\nchunksize = 3"),
     "experiment.chunksize"),
    ("wrong type", ("replications = 5", 'replications = "five"'), "experiment.replications"),
    ("probability outside [0, 1]", ("size = 500", "size = 500\np_b = 1.5"), "world.p_b"),
    ("n larger than the population", ("n = 50", "n = 5000"), "sample.n"),
    ("unknown design", ('name = "srs"', 'name = "lottery"'), "designs.0.name"),
    ("unknown backend", ("", '\n[backend]\nkind = "mpi"\n'), "backend.kind"),
    ("negative replications", ("replications = 5", "replications = -3"),
     "experiment.replications"),
    ("bad grid key", ("", '\n[grid]\n"planet.size" = [1, 2]\n'), "grid.planet.size"),
    ("empty grid list", ("", '\n[grid]\n"world.size" = []\n'), "grid.world.size"),
    ("missing required key", ("root_seed = 1\n", ""), "experiment.root_seed"),
    ("bad TOML syntax", ("", "\n[broken\n"), "t.toml"),
    ("unknown unit", ('unit = "toy"', 'unit = "tea"'), "experiment.unit"),
    ("grid value out of range", ("", '\n[grid]\n"world.p_b" = [0.5, 2.0]\n'),
     "grid.world.p_b"),
    ("unknown world key through the grid", ("", '\n[grid]\n"world.sise" = [100]\n'),
     "grid.world.sise"),
    ("grid n larger than the population", ("", '\n[grid]\n"sample.n" = [10, 600]\n'),
     "grid.sample.n"),
    ("unknown design parameter", ('name = "srs"', 'name = "srs"\nparams = { depth = 2 }'),
     "designs.0.params.depth"),
    ("cap below the replications",
     ("", "\n[stopping]\ntarget_mcse = 0.1\nmax_replications = 2\n"),
     "stopping.max_replications"),
    ("zero chunk size", ("chunk_size = 5", "chunk_size = 0"), "experiment.chunk_size"),
]


def _write(tmp: Path, old_new: tuple[str, str]) -> Path:
    old, new = old_new
    text = GOOD + new if old == "" else GOOD.replace(old, new, 1)
    assert text != GOOD
    p = tmp / "t.toml"
    p.write_text(text)
    return p


def test_good_config_loads(tmp_path: Path) -> None:
    p = tmp_path / "t.toml"
    p.write_text(GOOD)
    exp = load_experiment(p)
    assert len(exp.conditions) == 1 and exp.conditions[0].n == 50


@pytest.mark.parametrize("what,change,key", CASES, ids=[c[0] for c in CASES])
def test_malformed_config_rejected(tmp_path: Path, capsys, what, change, key) -> None:
    cfg = _write(tmp_path, change)
    out = tmp_path / "out"
    code = main(["run", str(cfg), "--out", str(out), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2, (what, err)
    assert key in err, (what, err)
    assert not out.exists(), f"{what}: something was written"


def test_missing_file(tmp_path: Path, capsys) -> None:
    assert main(["run", str(tmp_path / "nope.toml")]) == 2
    assert "nope.toml" in capsys.readouterr().err


def test_grid_expands_cartesian_product(tmp_path: Path) -> None:
    p = tmp_path / "t.toml"
    p.write_text(GOOD.replace("n = 50", "n = [20, 40]")
                 + '\n[grid]\n"world.p_b" = [0.1, 0.5, 0.9]\n')
    exp = load_experiment(p)
    assert len(exp.conditions) == 6
    combos = {(c.n, c.world["p_b"]) for c in exp.conditions}
    assert combos == {(n, q) for n in (20, 40) for q in (0.1, 0.5, 0.9)}
    # conditions that differ only in n share the population (same world hash)
    assert len({c.world_hash for c in exp.conditions}) == 3


def test_existing_run_needs_resume(tmp_path: Path, capsys) -> None:
    p = tmp_path / "t.toml"
    p.write_text(GOOD)
    out = tmp_path / "out"
    assert main(["run", str(p), "--out", str(out), "--no-progress"]) == 0
    assert main(["run", str(p), "--out", str(out), "--no-progress"]) == 2
    assert "--resume" in capsys.readouterr().err
    p.write_text(GOOD.replace("root_seed = 1", "root_seed = 2"))
    assert main(["run", str(p), "--out", str(out), "--resume", "--no-progress"]) == 2
    assert "different config" in capsys.readouterr().err


def test_unreachable_scheduler(tmp_path: Path, capsys, monkeypatch) -> None:
    import sim_refugee.engine.backends as backends

    monkeypatch.setattr(backends, "SCHEDULER_TIMEOUT", "2s")
    p = tmp_path / "t.toml"
    p.write_text(GOOD)
    out = tmp_path / "out"
    code = main(["run", str(p), "--out", str(out), "--scheduler", "tcp://127.0.0.1:9",
                 "--no-progress"])
    assert code == 2
    assert "backend.scheduler" in capsys.readouterr().err
    assert not out.exists()
