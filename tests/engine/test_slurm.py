"""The cluster path against a real SLURM: dask-jobqueue's SLURMCluster runs a toy
experiment and gives results bit-identical to the serial backend.

Needs a running SLURM with an idle node (``.ci/start-slurm`` starts a one-node one on
localhost, as root); otherwise the test is skipped and says why.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from sim_refugee.engine import load_experiment, open_results, run_experiment
from sim_refugee.engine.config import BackendSection

from .conftest import assert_bit_identical, toy_config


def _slurm_ready() -> str | None:
    """None if a node is idle/mixed, else the reason to skip."""
    if shutil.which("sinfo") is None or shutil.which("sbatch") is None:
        return "SLURM client tools (sinfo, sbatch) are not installed"
    try:
        out = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True,
                             timeout=15)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"sinfo failed: {exc}"
    if out.returncode != 0:
        return f"sinfo failed (no running slurmctld?): {out.stderr.strip()[:200]}"
    states = {s.strip("*~#") for s in out.stdout.split()}
    if not states & {"idle", "mixed"}:
        return f"no SLURM node is up and idle (states: {sorted(states) or 'none'})"
    return None


@pytest.mark.slurm
@pytest.mark.timeout(600)
def test_slurmcluster_bit_identical_to_serial(tmp_path: Path) -> None:
    reason = _slurm_ready()
    if reason:
        pytest.skip(f"SLURM not available: {reason} (run .ci/start-slurm as root)")
    cluster = f"""
[backend]
kind = "dask"

[cluster]
kind = "slurm"
cores = 1
processes = 1
memory = "1GB"
walltime = "00:15:00"
jobs = 2
local_directory = "{tmp_path / 'dask-local'}"
log_directory = "{tmp_path / 'slurm-logs'}"
"""
    cfg = toy_config(tmp_path, reps=20, chunk=10, n="[50, 100]", extra=cluster,
                     unit="fail_reps = [4]")
    exp = load_experiment(cfg)
    assert exp.file.backend.kind == "dask" and exp.file.cluster is not None
    summary = run_experiment(exp, tmp_path / "slurm", progress=False)
    assert summary["computed_reps"] == 20 * 2 * 2
    ref_out = tmp_path / "serial"
    run_experiment(exp, ref_out, backend=BackendSection(kind="serial"), progress=False)
    assert_bit_identical(open_results(ref_out), open_results(tmp_path / "slurm"))
    # the work really went through SLURM: dask-jobqueue wrote job logs
    logs = list((tmp_path / "slurm-logs").glob("*"))
    assert logs, "no SLURM job logs: were the workers SLURM jobs?"
