"""Chunk files as blocks of the streaming diagnosis (``diagnosis.stream``).

The stopping rule folds each round's new chunks into a running ``StreamDiagnosis``
instead of re-collecting and re-diagnosing every replication: a round costs what its
own replications cost. A block is one condition x population x chunk range, with every
design's chunk of that range (chunk boundaries are multiples of ``chunk_size`` in every
round, so the designs' chunks line up; common random numbers pair them).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from sim_refugee.diagnosis.stream import Block, Labels, StreamDiagnosis
from sim_refugee.engine.claims_eval import ClaimEvaluator
from sim_refugee.engine.config import Experiment
from sim_refugee.engine.storage import chunk_dir, read_chunk
from sim_refugee.engine.tasks import TaskSpec


def _design_chunks(specs: list[TaskSpec]) -> dict[tuple[int, int, int], dict[str, TaskSpec]]:
    groups: dict[tuple[int, int, int], dict[str, TaskSpec]] = {}
    for s in specs:
        if s.kind == "reps":
            groups.setdefault((s.cond_index, s.pop_index, s.rep_start), {})[s.design] = s
    return groups


def new_stream(exp: Experiment, out: Path, spec: TaskSpec) -> tuple[StreamDiagnosis,
                                                                     ClaimEvaluator]:
    """An empty running diagnosis labelled from the chunk of ``spec``."""
    ds = read_chunk(chunk_dir(out) / spec.filename)
    lab = {k: [str(x) for x in ds[k].values] for k in ("model_term", "statistic", "model",
                                                      "scalar")}
    ev = ClaimEvaluator(exp.unit_name, lab)
    mt = [x.split(":", 1) for x in lab["model_term"]]
    labels = Labels(
        conditions=[c.key for c in exp.conditions], designs=list(exp.designs),
        model_terms=lab["model_term"], models=lab["model"], model_of_term=[m for m, _ in mt],
        terms=[t for _, t in mt], claims=list(ev.ids) if ev.fn is not None else
        [str(c) for c in ds["claim"].values],
        n_populations=exp.file.experiment.populations,
        condition_label=[c.label for c in exp.conditions], n=[c.n for c in exp.conditions])
    return StreamDiagnosis(labels, keep_nonprob=False), ev


def chunk_blocks(exp: Experiment, out: Path, specs: list[TaskSpec], ev: ClaimEvaluator
                 ) -> Iterator[Block]:
    """The blocks of the chunks of ``specs`` (one condition x population x range each)."""
    truths: dict[tuple[int, int], tuple[np.ndarray, np.ndarray | None]] = {}
    for (ci, p, _), by_design in sorted(_design_chunks(specs).items()):
        if (ci, p) not in truths:
            e = read_chunk(chunk_dir(out) / f"estimand_c{ci:03d}_p{p:03d}.nc")
            est = e["estimand"].values
            stats = [str(s) for s in e["statistic"].values]
            stored_ids = [str(c) for c in e["claim"].values]
            tr = ev.truth(est, e["estimand_status"].values.astype(str),
                          e["scalar_truth"].values, e["claim_truth"].values, stored_ids)
            truths[(ci, p)] = (est[:, stats.index("estimate")], tr)
        theta, tr = truths[(ci, p)]
        parts = [read_chunk(chunk_dir(out) / by_design[d].filename) for d in exp.designs]
        stats = [str(s) for s in parts[0]["statistic"].values]
        est = np.stack([d["estimates"].transpose("model_term", "statistic", "replication")
                        .values for d in parts])
        rs = np.stack([d["rep_status"].values.astype(str) for d in parts])
        ms = np.stack([d["model_status"].values.astype(str).T for d in parts])
        cl = []
        for k, d in enumerate(parts):
            c = ev.sample(np.moveaxis(est[k], -1, 0), ms[k].T, d["scalars"].values, rs[k])
            cl.append(c.T if c is not None else d["claims"].values.T)
        yield Block(condition=ci, population=p, est=est[:, :, stats.index("estimate")],
                    se=est[:, :, stats.index("se")], pval=est[:, :, stats.index("pvalue")],
                    theta=theta, rep_status=rs, model_status=ms, claims=np.stack(cl),
                    claim_truth=tr)
