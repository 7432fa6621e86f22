"""``sim-refugee rerun`` recomputes a stored replication bit for bit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim_refugee.cli import main
from sim_refugee.engine import load_experiment, run_experiment
from sim_refugee.engine.rerun import COMPARED, rerun
from sim_refugee.engine.storage import read_chunk


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    from .conftest import toy_config

    tmp = tmp_path_factory.mktemp("rerun")
    cfg = toy_config(tmp, reps=12, chunk=5, pops=2, n="[40, 80]",
                     unit="nonconverge_reps = [7]\nfail_reps = [3]")
    out = tmp / "out"
    run_experiment(load_experiment(cfg), out, progress=False)
    return out


def test_rerun_is_bit_identical(run: Path) -> None:
    rs = rerun(run, "sample/1/7")
    assert len(rs) == 2 * 2  # conditions x designs
    for r in rs:
        assert r.identical, r.differs
        for v in ("estimates", "scalars"):  # not trivially equal: real numbers, compared raw
            a, b = r.recomputed[v].values, r.stored[v].values
            assert np.isfinite(a).any() and a.tobytes() == b.tobytes()
        assert "not_converged" in r.recomputed["model_status"].values[0]


def test_rerun_shows_a_failed_replication(run: Path, capsys) -> None:
    assert main(["rerun", str(run), "--key", "sample/0/3", "--design", "srs",
                 "--condition", "c001"]) == 0
    text = capsys.readouterr().out
    assert "c001 / srs / sample/0/3: replication error; bit-identical" in text
    assert "injected failure in replication 3" in text


def test_rerun_detects_a_changed_stored_value(run: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(run, copy)
    path = copy / "chunks" / "c000_p000_srs_r0000005-0000010.nc"
    ds = read_chunk(path)
    ds["estimates"].values[1, 0, 0] += 1e-12  # replication 6
    from sim_refugee.engine.storage import write_chunk
    from sim_refugee.engine.tasks import TaskSpec

    spec = TaskSpec(kind="reps", unit="toy", root_seed=7, config_hash="", cond_index=0,
                    world_hash="", world={}, unit_params={}, pop_index=0, design="srs",
                    rep_start=5, rep_stop=10)
    write_chunk(copy, spec, ds)
    (r,) = rerun(copy, "sample/0/6", design="srs", condition="c000")
    assert r.differs == ["estimates"]
    assert main(["rerun", str(copy), "--key", "sample/0/6", "--design", "srs",
                 "--condition", "c000"]) == 1
    assert set(COMPARED) >= {"estimates", "claims", "model_status"}


@pytest.mark.parametrize("args", [["--key", "6"], ["--key", "sample/5/1"],
                                  ["--key", "sample/0/99"], ["--key", "sample/0/1",
                                                             "--design", "nope"]])
def test_rerun_bad_input(run: Path, args: list[str]) -> None:
    assert main(["rerun", str(run), *args]) == 2


@pytest.mark.slow
def test_rerun_paper_suite_bit_identical(tmp_path: Path) -> None:
    from .test_unit_suite import CFG

    cfg = tmp_path / "suite.toml"
    cfg.write_text(CFG.replace("replications = 1", "replications = 2"))
    out = tmp_path / "out"
    run_experiment(load_experiment(cfg), out, progress=False)
    (r,) = rerun(out, "sample/0/1")
    assert r.identical, r.differs
    assert np.isfinite(r.recomputed["estimates"].values).sum() > 100


def test_rerun_restores_thread_pools(run: Path) -> None:
    from sim_refugee.estimators import _threads

    rerun(run, "sample/0/2", design="srs", condition="c000")
    assert _threads.pinned() is None  # BLAS pinned only while recomputing
