"""Results that cannot silently go stale or wrong (issue 13): provenance, checksums, the
folder lock, temp files, workers on interrupt, claims evaluated from stored estimates."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

from sim_refugee.cli import main
from sim_refugee.engine import collect, load_experiment, open_results, run_experiment, unit_toy
from sim_refugee.engine.storage import read_chunk, write_chunk
from sim_refugee.engine.tasks import TaskSpec
from sim_refugee.errors import UserInputError

from .conftest import assert_bit_identical


def _run(cfg: Path, out: Path, **kw) -> dict:
    return run_experiment(load_experiment(cfg), out, progress=False, **kw)


def _a_chunk(out: Path) -> Path:
    return sorted((out / "chunks").glob("c*.nc"))[0]


def _flip_bit_in_estimates(path: Path) -> None:
    """Flip one bit of one stored estimate (its 8 bytes found in the file)."""
    ds = read_chunk(path)
    val = float(ds["estimates"].values[1, 0, 0])
    raw = path.read_bytes()
    at = raw.find(np.float64(val).tobytes())
    assert at >= 0, "estimate not found in the file"
    buf = bytearray(raw)
    buf[at + 3] ^= 0x10
    path.write_bytes(bytes(buf))
    assert float(read_chunk(path)["estimates"].values[1, 0, 0]) != val  # really changed


def test_bit_flip_detected_on_collect_and_recomputed_on_resume(toy, tmp_path: Path) -> None:
    cfg = toy(reps=20, chunk=10)
    ref = tmp_path / "ref"
    _run(cfg, ref)
    out = tmp_path / "run"
    _run(cfg, out, collect_results=False)
    victim = _a_chunk(out)
    _flip_bit_in_estimates(victim)
    with pytest.raises(UserInputError, match=f"checksum.*{victim.name}|{victim.name}.*checksum"):
        collect(out)
    assert not (out / "results.nc").exists()
    summary = _run(cfg, out, resume=True)
    assert summary["recomputed_chunks"] == 1
    assert summary["computed_reps"] == 10
    assert "checksum mismatch" in summary["recomputed"][0]
    assert_bit_identical(open_results(out), open_results(ref))


def test_any_changed_byte_is_detected(toy, tmp_path: Path) -> None:
    cfg = toy(reps=10, chunk=10, designs=("srs",))
    out = tmp_path / "run"
    _run(cfg, out, collect_results=False)
    victim = _a_chunk(out)
    buf = bytearray(victim.read_bytes())
    buf[len(buf) // 2] ^= 0x01  # wherever it lands: data, header or padding
    victim.write_bytes(bytes(buf))
    with pytest.raises(UserInputError, match="checksum"):
        collect(out)


def _restamp(path: Path, **attrs) -> None:
    """Rewrite a chunk as an older code would have written it (valid checksum)."""
    ds = read_chunk(path)
    ds.attrs.update(attrs)
    spec = TaskSpec(kind="reps", unit="toy", root_seed=0, config_hash="", cond_index=0,
                    world_hash="", world={}, unit_params={}, pop_index=0)
    tmp_out = path.parent.parent
    written = write_chunk(tmp_out, spec, ds)
    written.replace(path)
    written.with_name(written.name + ".sha256").replace(path.with_name(path.name + ".sha256"))


def test_stale_layout_is_refused_with_the_reason(toy, tmp_path: Path) -> None:
    cfg = toy(reps=20, chunk=10)
    out = tmp_path / "run"
    _run(cfg, out)
    ref = open_results(out)
    victim = _a_chunk(out)
    _restamp(victim, layout_hash="0123456789abcdef")
    with pytest.raises(UserInputError, match="result layout.*0123456789abcdef") as err:
        _run(cfg, out, resume=True)
    assert "--recompute-stale" in str(err.value) and "new --out" in str(err.value)
    # collect refuses a mixed layout too
    with pytest.raises(UserInputError, match="layout"):
        collect(out)
    # the command line: exit 2 and the reason; then --recompute-stale fixes it
    assert main(["run", str(cfg), "--out", str(out), "--resume", "--no-progress"]) == 2
    assert main(["run", str(cfg), "--out", str(out), "--resume", "--recompute-stale",
                 "--no-progress"]) == 0
    assert_bit_identical(open_results(out), ref)


def test_code_version_change_is_stale(toy, tmp_path: Path, monkeypatch) -> None:
    cfg = toy(reps=10, chunk=10, designs=("srs",))
    out = tmp_path / "run"
    _run(cfg, out)
    from sim_refugee.engine import integrity

    monkeypatch.setattr(integrity, "code_version", lambda: "99.0")
    with pytest.raises(UserInputError, match=r"code version 0\.1\.0\+src\.[0-9a-f]{12} -> 99\.0"):
        _run(cfg, out, resume=True)
    s = _run(cfg, out, resume=True, recompute_stale=True)
    assert s["recomputed_chunks"] == 2  # the census fit and the one chunk


def _spawn(cfg: Path, out: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    return subprocess.Popen(
        [sys.executable, "-m", "sim_refugee", "run", str(cfg), "--out", str(out),
         "--no-progress", *extra], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)


def _wait_for(cond, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while not cond() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert cond(), "condition not reached"


def test_concurrent_run_refused_and_dead_lock_recovered(toy, tmp_path: Path) -> None:
    cfg = toy(reps=40, chunk=5, unit="sleep_seconds = 0.05", designs=("srs",))
    other = toy(name="other.toml", seed=8, reps=40, chunk=5, designs=("srs",))
    out = tmp_path / "run"
    proc = _spawn(cfg, out)
    try:
        _wait_for(lambda: len(list((out / "chunks").glob("c*.nc"))) >= 1, proc)
        for c, resume in ((other, False), (other, True), (cfg, True)):
            with pytest.raises(UserInputError, match=r"in use by another run \(pid"):
                _run(c, out, resume=resume)
        assert main(["run", str(other), "--out", str(out), "--no-progress"]) == 2
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert (out / ".lock").exists()  # left by the killed run: its pid is gone
    s = _run(cfg, out, resume=True)
    assert s["computed_reps"] + s["skipped_reps"] == 40
    assert not (out / ".lock").exists()


def test_temp_files_removed_at_start(toy, tmp_path: Path) -> None:
    cfg = toy(reps=10, chunk=10, designs=("srs",))
    out = tmp_path / "run"
    _run(cfg, out)
    leftovers = [out / ".results.nc.abc123.tmp", out / "chunks" / ".c000_x.nc.q1w2.tmp"]
    for p in leftovers:
        p.write_bytes(b"half")
    _run(cfg, out, resume=True)
    assert not any(p.exists() for p in leftovers)


def test_added_claim_applies_to_old_run(toy, tmp_path: Path, monkeypatch) -> None:
    cfg = toy(reps=20, chunk=10)
    out = tmp_path / "run"
    _run(cfg, out)
    old = open_results(out)
    assert "y_mean_above_0.2" not in old["claim"].values

    def above(est: np.ndarray) -> float:
        return float(est[0, 0] > 0.2)

    monkeypatch.setitem(unit_toy.CLAIMS, "y_mean_above_0.2", (above, above))
    s = _run(cfg, out, resume=True)  # nothing recomputed, yet the claim is there
    assert s["computed_reps"] == 0
    res = open_results(out)
    got = res["claims"].sel(claim="y_mean_above_0.2").values
    want = (res["estimates"].sel(model_term="mean:y", statistic="estimate").values > 0.2)
    np.testing.assert_array_equal(got, want.astype(float))
    truth = res["claim_truth"].sel(claim="y_mean_above_0.2").values
    np.testing.assert_array_equal(
        truth, (res["estimand"].sel(model_term="mean:y", statistic="estimate").values > 0.2))
    assert int(res.attrs["claims_worker_mismatches"]) == 0
    for c in ("y_mean_positive", "b_raises_y"):  # unchanged claims equal the worker's
        np.testing.assert_array_equal(res["claims"].sel(claim=c).values,
                                      old["claims"].sel(claim=c).values)


@pytest.mark.parametrize("backend", ["loky", "dask"])
def test_workers_shut_down_on_interrupt(toy, tmp_path: Path, backend: str) -> None:
    if backend == "dask":
        pytest.importorskip("dask.distributed")
    cfg = toy(reps=200, chunk=5, unit="sleep_seconds = 0.05", designs=("srs",))
    out = tmp_path / "run"
    proc = _spawn(cfg, out, "--backend", backend, "--workers", "2")
    try:
        _wait_for(lambda: len(list((out / "chunks").glob("c*.nc"))) >= 2, proc)
        kids = psutil.Process(proc.pid).children(recursive=True)
        assert len(kids) >= 2, "no worker processes seen"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
    gone, alive = psutil.wait_procs(kids, timeout=15)
    assert not alive, f"left-over processes: {[p.pid for p in alive]}"
    assert not (out / ".lock").exists()
    assert b"--resume" in proc.stderr.read()


def test_code_version_names_the_release_and_the_sources() -> None:
    """An edit to any source file changes the code version, not only a version bump: the
    digest covers every .py file of the installed package."""
    import sim_refugee
    from sim_refugee.engine import integrity

    v = integrity.code_version()
    assert v.startswith(f"{sim_refugee.__version__}+src.") and len(v.split(".")[-1]) == 12
    assert integrity.code_version() == v  # computed once per process, stable


class _Killed(BaseException):
    """Stands for SIGKILL at one point of a write (not an Exception: nothing catches it)."""


@pytest.mark.parametrize("at", ["checksum", "rename"])
def test_a_kill_between_chunk_and_checksum_leaves_no_unverified_chunk(
        toy, tmp_path: Path, monkeypatch, at: str) -> None:
    """A chunk under its final name always has its sidecar, wherever the writer dies:
    the sidecar is written (of the temp file) before the chunk is renamed into place.
    The other order left a window in which a kill produced a chunk without a checksum,
    which made ``collect --allow-partial`` refuse the folder (a flaky kill test)."""
    from sim_refugee.engine import integrity, storage

    cfg = toy(reps=20, chunk=10, designs=("srs",))
    out = tmp_path / "run"
    _run(cfg, out, collect_results=False)
    victim = _a_chunk(out)
    ds = read_chunk(victim)
    spec = TaskSpec(kind="reps", unit="toy", root_seed=0, config_hash="", cond_index=0,
                    world_hash="", world={}, unit_params={}, pop_index=0)
    for p in (victim, victim.with_name(victim.name + ".sha256")):
        p.unlink()
    real_sum, real_replace = integrity.atomic_write_text, os.replace

    def dies_at_checksum(path, text):
        raise _Killed

    def dies_at_rename(src, dst):
        if str(dst).endswith(".nc"):
            raise _Killed
        return real_replace(src, dst)

    if at == "checksum":
        monkeypatch.setattr(integrity, "atomic_write_text", dies_at_checksum)
    else:
        monkeypatch.setattr(os, "replace", dies_at_rename)
    with pytest.raises(_Killed):
        storage.write_chunk(out, spec, ds)
    monkeypatch.setattr(integrity, "atomic_write_text", real_sum)
    monkeypatch.setattr(os, "replace", real_replace)
    for chunk in (out / "chunks").glob("*.nc"):
        assert integrity.checksum_problem(chunk) is None, chunk.name
    assert main(["collect", str(out), "--allow-partial"]) == 0
