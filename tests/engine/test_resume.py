"""Interruption and resume: a run killed mid-way (SIGKILL) and resumed equals an
uninterrupted run, with no replication lost or duplicated; corrupt chunks are redone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from sim_refugee.cli import main
from sim_refugee.engine import collect, load_experiment, open_results, run_experiment
from sim_refugee.errors import UserInputError

from .conftest import assert_bit_identical


def _chunks(out: Path) -> list[Path]:
    d = out / "chunks"
    return [p for p in d.glob("c*.nc")] if d.exists() else []


def test_kill_and_resume_equals_uninterrupted(toy, tmp_path: Path) -> None:
    # 1 design x 10 chunks of 5 reps; each rep sleeps 40 ms so the run lasts a few seconds
    cfg = toy(reps=50, chunk=5, unit="sleep_seconds = 0.04", designs=("srs",))
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim_refugee", "run", str(cfg), "--out", str(out),
         "--no-progress"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while len(_chunks(out)) < 3 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    n_before = len(_chunks(out))
    assert 3 <= n_before < 10, f"kill came too late or too early ({n_before} chunks)"
    assert not (out / "results.nc").exists()
    with pytest.raises(UserInputError, match="incomplete"):
        collect(out)
    # a partial collect is possible on request, and marks what is missing
    assert main(["collect", str(out), "--allow-partial"]) == 0
    part = open_results(out)
    assert part.attrs["complete"] == 0
    assert int((part["rep_status"] == "not_run").sum()) == 50 - 5 * n_before
    (out / "results.nc").unlink()

    exp = load_experiment(cfg)
    summary = run_experiment(exp, out, resume=True, progress=False)
    assert summary["skipped_reps"] == 5 * n_before
    assert summary["computed_reps"] == 50 - 5 * n_before
    resumed = open_results(out)

    ref_out = tmp_path / "straight"
    run_experiment(exp, ref_out, progress=False)
    ref = open_results(ref_out)
    assert_bit_identical(ref, resumed)
    reps = resumed["replication"].values
    np.testing.assert_array_equal(reps, np.arange(50))
    assert (resumed["rep_status"] == "ok").all()


def test_corrupt_chunk_is_recomputed(toy, tmp_path: Path) -> None:
    cfg = toy(reps=20, chunk=10, designs=("srs",))
    exp = load_experiment(cfg)
    out = tmp_path / "run"
    run_experiment(exp, out, progress=False)
    ref = open_results(out)
    victim = sorted(_chunks(out))[1]
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 3])  # truncated file under its final name
    (out / "results.nc").unlink()
    summary = run_experiment(exp, out, resume=True, progress=False)
    assert summary["recomputed_chunks"] == 1
    assert summary["computed_reps"] == 10
    assert_bit_identical(ref, open_results(out))
