"""Sequential stopping: a condition stops once every monitored MCSE is below target,
another runs to the cap; the stop is where the rule says it is."""

from __future__ import annotations

import json

import numpy as np

from sim_refugee.diagnosis import condition_max_mcse
from sim_refugee.engine import load_experiment, open_results, run_experiment

STOP = """
[stopping]
target_mcse = 0.03
max_replications = 40
batch = 10
measures = ["bias"]
"""


def test_sequential_stopping(toy, tmp_path) -> None:
    # bias MCSE ~ empSE / sqrt(R); empSE of the slope is ~0.31 at n = 50 (needs R > 100:
    # hits the cap of 40) and ~0.11 at n = 400 (R > ~14: stops at 20 or 30)
    cfg = toy(reps=10, chunk=10, n="[50, 400]", designs=("srs",), extra=STOP)
    out = tmp_path / "out"
    summary = run_experiment(load_experiment(cfg), out, progress=False)
    done = summary["replications_done"]
    assert done[0] == 40  # capped
    assert 20 <= done[1] < 40
    man = json.loads((out / "manifest.json").read_text())
    assert man["replications_done"] == {"0": 40, "1": done[1]}
    res = open_results(out)
    c1 = res.sel(condition="c001")
    st = c1["rep_status"].sel(design="srs", population=0).values
    assert (st[: done[1]] == "ok").all() and (st[done[1]:] == "not_run").all()
    # the rule: below target at the stop, above it one batch earlier
    assert condition_max_mcse(c1, ["bias"]) <= 0.03
    earlier = c1.isel(replication=slice(0, done[1] - 10))
    assert condition_max_mcse(earlier, ["bias"]) > 0.03
    # the capped condition is still above target (else it would have stopped)
    assert condition_max_mcse(res.sel(condition="c000"), ["bias"]) > 0.03
    assert np.isfinite(res["estimates"].sel(condition="c000")).all()


def test_stopping_rounds_read_each_chunk_once(toy, tmp_path, monkeypatch) -> None:
    """Incremental: a round folds in only its own chunks (no re-collect, no re-read)."""
    from collections import Counter

    from sim_refugee.engine import storage, stream_blocks

    reads: Counter = Counter()
    real = stream_blocks.read_chunk

    def counting(path):
        reads[path.name] += 1
        return real(path)

    monkeypatch.setattr(stream_blocks, "read_chunk", counting)
    collects = Counter()
    real_collect = storage.collect
    monkeypatch.setattr("sim_refugee.engine.run.collect",
                        lambda out, **kw: collects.update(["c"]) or real_collect(out, **kw))
    cfg = toy(reps=10, chunk=10, n="[50, 400]", designs=("srs",), extra=STOP)
    summary = run_experiment(load_experiment(cfg), tmp_path / "out", progress=False)
    rep_reads = {k: v for k, v in reads.items() if not k.startswith("estimand")}
    assert len(rep_reads) == sum(summary["replications_done"].values()) // 10
    # each chunk once (the first also labels the running diagnosis)
    assert sorted(rep_reads.values())[:-1] == [1] * (len(rep_reads) - 1)
    assert max(rep_reads.values()) <= 2
    assert collects["c"] == 1  # only the final collect
