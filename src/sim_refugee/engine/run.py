"""Run an experiment: validated config -> tasks -> backend -> chunk files -> results.nc.

``run_experiment`` is idempotent under ``resume=True``: finished chunks that open and
belong to the same config are skipped, anything else is (re)computed; because every
replication draws from its own keyed seed, a resumed run equals an uninterrupted one.
With a ``[stopping]`` table, conditions get further batches of replications until every
monitored MCSE is below target or the cap is reached; the decision is a deterministic
function of the (deterministic) results, so it too is backend- and resume-invariant.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from pathlib import Path
from typing import Any

from sim_refugee.engine.backends import make_backend
from sim_refugee.engine.config import BackendSection, Experiment, stable_hash
from sim_refugee.engine.integrity import clean_temp_files, folder_lock
from sim_refugee.engine.storage import (
    check_chunk,
    chunk_dir,
    collect,
    package_versions,
    read_manifest,
    write_chunk,
    write_manifest,
)
from sim_refugee.engine.tasks import TaskSpec, spec_layout_hash
from sim_refugee.errors import UserInputError
from sim_refugee.validation import check_output, inside


def make_tasks(exp: Experiment, rep_ranges: dict[int, tuple[int, int]]) -> list[TaskSpec]:
    """Census-fit tasks and replication chunks for reps ``[lo, hi)`` of each condition."""
    f = exp.file
    cs = f.experiment.chunk_size
    specs: list[TaskSpec] = []
    for cond in exp.conditions:
        if cond.index not in rep_ranges:
            continue
        lo, hi = rep_ranges[cond.index]
        common = dict(
            unit=exp.unit_name, root_seed=exp.root_seed, config_hash=exp.config_hash,
            cond_index=cond.index, world_hash=cond.world_hash, world=cond.world,
            unit_params=cond.unit_params,
        )
        tail: list[TaskSpec] = []  # partial chunks: dispatched last in their condition
        for p in range(f.experiment.populations):
            if lo == 0:
                specs.append(TaskSpec(kind="estimand", pop_index=p, **common))
            for des in exp.designs:
                dp = cond.design_params[des]
                # chunk boundaries are multiples of chunk_size, whatever the round
                start = lo
                while start < hi:
                    stop = min(hi, (start // cs + 1) * cs)
                    spec = TaskSpec(
                        kind="reps", pop_index=p, design=des, design_name=exp.design_names[des],
                        design_params=dp, dparams_hash=stable_hash(dp), n=cond.n,
                        rep_start=start, rep_stop=stop, **common,
                    )
                    (specs if stop - start == cs else tail).append(spec)
                    start = stop
        # Longest first: a short chunk dispatched last fills the gap while the other
        # workers finish their long ones, instead of a long one running alone at the end.
        specs.extend(tail)
    return specs


def _manifest(exp: Experiment, done: dict[int, int], status: str) -> dict[str, Any]:
    f = exp.file
    return {
        "name": f.experiment.name,
        "status": status,
        "config": exp.raw,
        "config_source": exp.source,
        "config_hash": exp.config_hash,
        "root_seed": exp.root_seed,
        "unit": exp.unit_name,
        "replications": f.experiment.replications,
        "replications_done": {str(k): v for k, v in done.items()},
        "chunk_size": f.experiment.chunk_size,
        "populations": f.experiment.populations,
        "designs": list(exp.designs),
        "design_names": exp.design_names,
        "grid_keys": list(exp.conditions[0].overrides) if exp.conditions else [],
        "conditions": [
            {"key": c.key, "index": c.index, "label": c.label, "overrides": c.overrides, "n": c.n}
            for c in exp.conditions
        ],
        "versions": package_versions(),
        "updated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _check_out(exp: Experiment, out: Path, resume: bool) -> None:
    check_output(out, "--out", kind="dir")  # not a file, not under a file, writable
    from sim_refugee.engine.integrity import LOCK_NAME

    man_path = out / "manifest.json"
    if man_path.exists():
        if not resume:
            raise UserInputError(
                f"output folder {str(out)!r} already holds a run; pass --resume to continue "
                "it or choose another --out",
                key="--out",
            )
        man = read_manifest(out)
        if man.get("config_hash") != exp.config_hash:
            raise UserInputError(
                f"output folder {str(out)!r} holds a run of a different config (hash "
                f"{man.get('config_hash')} != {exp.config_hash}); cannot resume",
                key="--out",
            )
        if int(man.get("chunk_size", -1)) != exp.file.experiment.chunk_size:
            raise UserInputError(
                "config key 'experiment.chunk_size' differs from the run being resumed "
                f"({man.get('chunk_size')})",
                key="experiment.chunk_size",
            )
    elif out.exists() and any(p.name != LOCK_NAME for p in out.iterdir()) and not resume:
        raise UserInputError(f"output folder {str(out)!r} is not empty", key="--out")


def run_experiment(
    exp: Experiment,
    out: str | Path,
    backend: BackendSection | None = None,
    resume: bool = False,
    progress: bool | None = None,
    collect_results: bool = True,
    recompute_stale: bool = False,
) -> dict[str, Any]:
    """Run ``exp`` into folder ``out``; returns a summary (counts, seconds, reps/s).

    The folder is locked for the whole run (a concurrent second run is refused) and
    temp files of an interrupted run are removed first. ``recompute_stale``: on resume,
    recompute chunks whose provenance differs (else the resume is refused, naming it).
    """
    out = Path(out)
    check_output(out, "--out", kind="dir")
    created = not out.exists()
    try:
        with folder_lock(out, log=print if progress is not False else None):
            clean_temp_files(out)
            return _run_locked(exp, out, backend, resume, progress, collect_results,
                               recompute_stale, created)
    finally:  # a fresh folder refused or emptied by a failure is not left behind
        if created and out.is_dir() and not any(out.iterdir()):
            with contextlib.suppress(OSError):
                out.rmdir()


def _run_locked(exp: Experiment, out: Path, backend: BackendSection | None, resume: bool,
                progress: bool | None, collect_results: bool, recompute_stale: bool,
                created: bool) -> dict[str, Any]:
    from tqdm.auto import tqdm

    _check_out(exp, out, resume)
    f = exp.file
    section = backend or f.backend
    be = make_backend(section, f.cluster)  # may fail on a bad address: before any write
    done = {c.index: f.experiment.replications for c in exp.conditions}
    summary = {"computed_reps": 0, "skipped_reps": 0, "recomputed_chunks": 0, "seconds": 0.0}
    t_start = time.perf_counter()
    fresh = not (out / "manifest.json").exists()
    try:
        try:
            write_manifest(out, _manifest(exp, done, "running"))
        except OSError as exc:
            raise UserInputError(f"cannot write to --out {str(out)!r}: {exc.strerror or exc}",
                                 key="--out") from None
        if exp.ensemble is not None:  # every world re-solved to the tables before sampling
            from sim_refugee.ensemble.calibrate import calibrate_worlds, write_points

            if exp.ensemble.recalibrate:
                exp = calibrate_worlds(exp, out, section.workers,
                                       log=lambda m: print(m) if progress is not False else None)
            else:
                write_points(exp, out)
        ranges = {c.index: (0, f.experiment.replications) for c in exp.conditions}
        stream = None
        while ranges:
            specs = make_tasks(exp, ranges)
            _run_round(exp, out, be, specs, summary, progress, tqdm, recompute_stale)
            if f.stopping:
                stream = stream or _new_stream(exp, out, specs)
                ranges = _next_round(exp, out, done, specs, stream)
            else:
                ranges = {}
            write_manifest(out, _manifest(exp, done, "running"))
    except UserInputError:
        # Bad input found only while running (e.g. a world that cannot be calibrated):
        # a fresh run leaves nothing behind, so the corrected config can use the same --out.
        if fresh and not resume:
            _remove_run(out, created)
        raise
    finally:  # also on KeyboardInterrupt / SIGTERM: no worker outlives the run
        with contextlib.suppress(Exception):
            be.close()
    summary["seconds"] = time.perf_counter() - t_start
    summary["reps_per_second"] = summary["computed_reps"] / max(summary["seconds"], 1e-9)
    summary["replications_done"] = done
    write_manifest(out, {**_manifest(exp, done, "complete"), "summary": summary,
                         "backend": section.model_dump()})
    if collect_results:
        summary["results"] = str(collect(out))
    return summary


def _remove_run(out: Path, created: bool) -> None:
    """Delete what a failed fresh run wrote in ``out`` (all of ``out`` if it made it)."""
    with contextlib.suppress(OSError):
        if created:
            shutil.rmtree(out)
            return
        shutil.rmtree(chunk_dir(out), ignore_errors=True)
        for name in ("manifest.json", "results.nc"):
            (out / name).unlink(missing_ok=True)


def _run_round(exp, out, be, specs, summary, progress, tqdm,  # noqa: ANN001
               recompute_stale: bool = False) -> None:
    for spec in specs:  # every file this round writes stays inside --out, checked up front
        inside(chunk_dir(out), spec.filename, key="--out")
    todo, stale = [], []
    layouts: dict[tuple[str, str], str] = {}
    for spec in specs:
        path = chunk_dir(out) / spec.filename
        if path.exists():
            key = (spec.unit, spec.world_hash + stable_hash(spec.unit_params))
            if key not in layouts:
                layouts[key] = spec_layout_hash(spec)
            status, why = check_chunk(path, spec, layouts[key])
            if status == "ok":
                summary["skipped_reps"] += spec.n_reps
                continue
            if status == "stale" and not recompute_stale:
                stale.append((spec.filename, why))
                continue
            summary["recomputed_chunks"] += 1
            summary.setdefault("recomputed", []).append(f"{spec.filename}: {why}")
        todo.append(spec)
    if stale:
        reasons = sorted({w for _, w in stale})
        raise UserInputError(
            f"output folder {str(out)!r} holds {len(stale)} chunk(s) computed differently "
            f"from what this run would compute (e.g. {stale[0][0]}): {'; '.join(reasons)}. "
            "Resume into a new --out, or pass --recompute-stale to recompute those chunks",
            key="--out",
        )
    for spec in todo:  # a corrupt or stale file and its checksum go before recomputing
        for p in (chunk_dir(out) / spec.filename,
                  chunk_dir(out) / (spec.filename + ".sha256")):
            p.unlink(missing_ok=True)
    total = sum(s.n_reps for s in todo)
    bar = tqdm(total=total, unit="rep", desc=exp.file.experiment.name, disable=progress is False
               if progress is not None else None, smoothing=0.1)
    try:
        for spec, ds in be.run(todo, out=Path(out).resolve()):  # workers may have another cwd
            if ds is not None:  # a remote worker sent the chunk back: write it here
                write_chunk(out, spec, ds)
            summary["computed_reps"] += spec.n_reps
            bar.update(spec.n_reps)
    finally:
        bar.close()


def _new_stream(exp: Experiment, out: Path, specs: list[TaskSpec]) -> tuple:
    from sim_refugee.engine.stream_blocks import new_stream

    return new_stream(exp, out, next(s for s in specs if s.kind == "reps"))


def _next_round(exp: Experiment, out: Path, done: dict[int, int], specs: list[TaskSpec],
                stream: tuple) -> dict[int, tuple[int, int]]:
    """Conditions whose monitored MCSEs are still above target get another batch.

    Incremental: only this round's chunks are read and folded into the running
    diagnosis (``stream``); earlier rounds are not re-collected or re-diagnosed."""
    from sim_refugee.diagnosis.measures import max_mcse
    from sim_refugee.engine.stream_blocks import chunk_blocks

    st = exp.file.stopping
    assert st is not None
    acc, ev = stream
    for block in chunk_blocks(exp, out, specs, ev):
        acc.add(block)
    batch = st.batch or exp.file.experiment.replications
    ranges = {}
    for cond in exp.conditions:
        if cond.index not in {s.cond_index for s in specs}:
            continue  # stopped in an earlier round
        worst = max_mcse(acc.finalize([cond.index]), st.measures)
        r = done[cond.index]
        if worst > st.target_mcse and r < st.max_replications:
            hi = min(st.max_replications, r + batch)
            ranges[cond.index] = (r, hi)
            done[cond.index] = hi
    return ranges
