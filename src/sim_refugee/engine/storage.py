"""Chunk files, the run manifest, and ``collect`` (chunks -> one results.nc).

Layout of an output folder::

    OUT/manifest.json          config, its hash, root seed, package versions, conditions
    OUT/.lock                  held by the run writing into OUT (``integrity.folder_lock``)
    OUT/chunks/<task>.nc       one finished chunk (or census fit), written atomically,
                               with provenance attributes (config/layout hash, code version)
    OUT/chunks/<task>.nc.sha256  its checksum (``integrity``)
    OUT/results.nc             written by ``collect``, chunk by chunk

Chunk files are written with ``sim_refugee.io.atomic_path`` (temp file + rename), so a
file under its final name is complete; ``check_chunk`` still verifies its checksum,
content and provenance on resume (a corrupt file is recomputed, a stale one refused).
"""

from __future__ import annotations

import importlib.metadata
import json
import platform
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from sim_refugee.engine import integrity
from sim_refugee.engine.integrity import checksum_problem, stale_reason, write_checksum
from sim_refugee.engine.tasks import TaskSpec
from sim_refugee.errors import UserInputError
from sim_refugee.io import NETCDF_ENGINE, atomic_path, atomic_write_text

ENGINE = NETCDF_ENGINE  # the shared choice (sim_refugee.io), under its old name
_PACKAGES = (
    "sim_refugee", "numpy", "scipy", "pandas", "statsmodels", "xarray", "h5netcdf",
    "pydantic", "joblib", "dask", "distributed", "dask-jobqueue",
)


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages a result depends on."""
    out = {"python": platform.python_version()}
    for p in _PACKAGES:
        try:
            out[p] = importlib.metadata.version(p)
        except importlib.metadata.PackageNotFoundError:
            out[p] = "not installed"
    return out


def chunk_dir(out: Path) -> Path:
    return Path(out) / "chunks"


_LABELS = "labels"


def write_chunk(out: Path, spec: TaskSpec, ds: xr.Dataset) -> Path:
    """Write one chunk atomically under OUT/chunks/.

    The label coordinates (model_term, statistic, model, claim, scalar, stage) are the
    same in every chunk; they are kept as one JSON attribute rather than as netCDF
    variables, because h5netcdf's cost per file grows quickly with the number of
    variables (measured: ~0.3 s per write with them, a third of it without).
    """
    path = chunk_dir(out) / spec.filename
    labels = {c: [str(v) for v in ds[c].values] for c in ds.coords if c != "replication"}
    slim = ds.drop_vars(list(labels))
    slim.attrs[_LABELS] = json.dumps(labels)
    with atomic_path(path) as tmp:
        slim.to_netcdf(tmp, engine=ENGINE)
        # the sidecar first: a kill between the two writes must not leave a chunk under
        # its final name without one (collect --allow-partial would refuse it)
        write_checksum(path, source=tmp)
    return path


def read_chunk(path: Path) -> xr.Dataset:
    """Load a chunk file with its label coordinates restored."""
    with xr.open_dataset(path, engine=ENGINE) as ds:
        ds = ds.load()
    labels = json.loads(ds.attrs.pop(_LABELS, "{}"))
    return ds.assign_coords({k: (k, v) for k, v in labels.items()})


def check_chunk(path: Path, spec: TaskSpec, layout: str | None = None) -> tuple[str, str]:
    """("ok", ""), ("corrupt", why) or ("stale", what changed) for an existing chunk.

    Corrupt: the checksum does not match, the file does not open, or it does not hold
    exactly this task's replications (it is recomputed). Stale: its provenance (config
    hash, layout hash, code version; ``integrity.stale_reason``) differs from what this
    run would write (a resume refuses it unless asked to recompute stale chunks).
    ``layout``: the expected layout hash (``tasks.spec_layout_hash``), computed if None.
    """
    from sim_refugee.engine.tasks import spec_layout_hash

    problem = checksum_problem(path)
    if problem:
        return "corrupt", problem
    try:
        ds = read_chunk(path)
    except Exception as exc:
        return "corrupt", f"does not open ({type(exc).__name__})"
    if spec.kind == "reps":
        reps = ds["replication"].values
        if not np.array_equal(reps, np.arange(spec.rep_start, spec.rep_stop)):
            return "corrupt", "holds other replications than its name says"
    elif "estimand" not in ds:
        return "corrupt", "no census fit in an estimand file"
    why = stale_reason(ds.attrs, spec.config_hash,
                       layout if layout is not None else spec_layout_hash(spec),
                       integrity.code_version())
    return ("stale", why) if why else ("ok", "")


def verify_chunk(path: Path, spec: TaskSpec) -> bool:
    """True if ``path`` passes ``check_chunk`` (checksum, content and provenance)."""
    return check_chunk(path, spec)[0] == "ok"


def write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    atomic_write_text(Path(out) / "manifest.json", json.dumps(manifest, indent=2, default=str))


def read_manifest(out: Path) -> dict[str, Any]:
    p = Path(out) / "manifest.json"
    if not p.is_file():
        raise UserInputError(f"{str(out)!r} holds no run (no manifest.json)", key=str(out))
    return json.loads(p.read_text())


_CHUNK_RE = re.compile(r"^c(\d+)_p(\d+)_(.+)_r(\d+)-(\d+)\.nc$")
_EST_RE = re.compile(r"^estimand_c(\d+)_p(\d+)\.nc$")
_FILL = {"model_status": "not_run", "rep_status": "not_run", "rep_message": ""}
_STR = ("model_status", "rep_status", "rep_message")


def chunk_index(out: Path) -> tuple[dict[tuple[int, int, str], list[tuple[int, int, Path]]],
                                    dict[tuple[int, int], Path]]:
    """Chunk files of OUT by (condition, population, design), sorted by first replication,
    and census-fit files by (condition, population); from the names alone (no file opened)."""
    reps: dict[tuple[int, int, str], list[tuple[int, int, Path]]] = {}
    ests: dict[tuple[int, int], Path] = {}
    d = chunk_dir(out)
    for p in sorted(d.glob("*.nc")) if d.is_dir() else []:
        if m := _CHUNK_RE.match(p.name):
            key = (int(m[1]), int(m[2]), m[3])
            reps.setdefault(key, []).append((int(m[4]), int(m[5]), p))
        elif m := _EST_RE.match(p.name):
            ests[(int(m[1]), int(m[2]))] = p
    for v in reps.values():
        v.sort()
    return reps, ests


def verify_all(out: Path) -> None:
    """UserInputError naming the first chunk whose checksum fails (read every file once)."""
    reps, ests = chunk_index(out)
    paths = [p for v in reps.values() for *_, p in v] + list(ests.values())
    bad = [(p, why) for p in paths if (why := checksum_problem(p))]
    if bad:
        p, why = bad[0]
        raise UserInputError(
            f"{str(out)!r}: {len(bad)} chunk file(s) fail their checksum, e.g. {p.name}: {why}. "
            "`sim-refugee run CONFIG --resume --out DIR` recomputes them",
            key=str(out),
        )


def _plan(out: Path, man: dict[str, Any], allow_partial: bool
          ) -> tuple[dict[tuple[int, int, str], list[tuple[int, int, Path]]],
                     dict[tuple[int, int], Path], int, list[str]]:
    """Chunks to collect, the replication count, and what is missing (refuses duplicates)."""
    reps, ests = chunk_index(out)
    conds = [c["key"] for c in man["conditions"]]
    targets = {int(k): int(v) for k, v in man.get("replications_done", {}).items()}
    problems, rmax = [], 0
    for ci in range(len(conds)):
        want = targets.get(ci, man["replications"])
        rmax = max(rmax, want)
        for p in range(man["populations"]):
            for des in man["designs"]:
                parts = reps.get((ci, p, des), [])
                if not parts:
                    problems.append(f"{conds[ci]}/p{p}/{des}: no chunks")
                    continue
                covered = np.zeros(max(want, parts[-1][1]), dtype=np.int64)
                for a, b, _ in parts:
                    covered[a:b] += 1
                if (covered > 1).any():
                    raise UserInputError(f"{conds[ci]}/p{p}/{des}: duplicated replications "
                                         "in chunks", key=str(out))
                rmax = max(rmax, len(covered))
                if not covered.all():
                    problems.append(f"{conds[ci]}/p{p}/{des}: have {int(covered.sum())} "
                                    f"of {want} replications")
    if not any(reps.values()):
        raise UserInputError(f"{str(out)!r}: no finished chunks to collect", key=str(out))
    if problems and not allow_partial:
        raise UserInputError(
            f"{str(out)!r} is incomplete ({len(problems)} group(s), e.g. {problems[0]}); "
            "resume the run or collect with --allow-partial",
            key=str(out),
        )
    missing = [(ci, p) for ci in range(len(conds)) for p in range(man["populations"])
               if (ci, p) not in ests]
    if ests and missing and not allow_partial:
        raise UserInputError(f"{str(out)!r}: census fit missing for {missing[0]}", key=str(out))
    return reps, ests, rmax, problems


def _check_attrs(path: Path, ds: xr.Dataset, chash: str, layout: str | None) -> str:
    if ds.attrs.get("config_hash") != chash:
        raise UserInputError(f"chunk {path.name} belongs to another config "
                             f"({ds.attrs.get('config_hash')} != {chash})", key=str(path.parent))
    lh = str(ds.attrs.get("layout_hash", ""))
    if layout is not None and lh != layout:
        raise UserInputError(
            f"chunk {path.name} has another result layout ({lh} != {layout}); resume with "
            "--recompute-stale to recompute the stale chunks", key=str(path.parent))
    return lh


def collect(out: str | Path, allow_partial: bool = False) -> Path:
    """Merge every chunk of OUT into OUT/results.nc, one chunk at a time.

    Every chunk's checksum and provenance are checked first; none may be lost or
    duplicated. The file is written variable slice by slice with h5netcdf, so memory
    holds one chunk, never all replications. Claims are evaluated here from the stored
    estimates with the current claim registry (``claims_from_arrays`` of the unit), so
    a claim added after the run applies to it; the worker's own claim values are
    compared as a check (attribute ``claims_worker_mismatches``).
    """
    import h5netcdf
    import h5py

    from sim_refugee.engine.claims_eval import stored_claims
    from sim_refugee.engine.units import get_unit

    out = Path(out)
    man = read_manifest(out)
    chash = man["config_hash"]
    reps, ests, rmax, problems = _plan(out, man, allow_partial)
    verify_all(out)
    unit = get_unit(man["unit"])
    conds = [c["key"] for c in man["conditions"]]
    designs = list(man["designs"])
    pops = list(range(man["populations"]))
    first = next(parts[0][2] for parts in reps.values() if parts)
    tpl = read_chunk(first)
    layout = _check_attrs(first, tpl, chash, None)
    lab = {k: [str(x) for x in tpl[k].values] for k in
           ("model_term", "statistic", "model", "scalar", "stage")}
    claim_ids = list(getattr(unit, "claim_ids", lambda: tpl["claim"].values)())
    lab["claim"] = [str(c) for c in claim_ids]
    C, P, D, R = len(conds), len(pops), len(designs), rmax
    T, S, M, K, Q, G = (len(lab[k]) for k in ("model_term", "statistic", "model", "claim",
                                              "scalar", "stage"))
    cs = int(man.get("chunk_size", 100)) or 100
    mt = [x.split(":", 1) for x in lab["model_term"]]
    aux = ["model_of_term", "term", "condition_label", "n", "design_name",
           *man.get("grid_keys", [])]
    SD = h5py.string_dtype()
    big = ("condition", "population", "design", "replication")
    mismatches, versions = 0, set()
    target = out / "results.nc"
    with atomic_path(target) as tmp, h5netcdf.File(tmp, "w") as f:
        f.dimensions = {"condition": C, "population": P, "design": D, "replication": R,
                        "model_term": T, "statistic": S, "model": M, "claim": K, "scalar": Q,
                        "stage": G}

        def var(name: str, dims: tuple[str, ...], dtype: Any, data: Any = None,
                chunked: bool = False) -> Any:
            kw: dict[str, Any] = {}
            if chunked and all(f.dimensions[d].size > 0 for d in dims):  # a unit may
                # have no claims (convref): HDF5 refuses chunks over an empty dimension
                kw["chunks"] = tuple(min(cs, R) if d == "replication" else
                                     (1 if d in big else f.dimensions[d].size) for d in dims)
            if np.dtype(dtype).kind == "f":
                kw["fillvalue"] = np.nan
            v = f.create_variable(name, dims, SD if dtype is str else dtype, **kw)
            if data is not None:
                v[...] = np.asarray(data, dtype=object) if dtype is str else data
            return v

        var("condition", ("condition",), str, conds)
        var("population", ("population",), "i8", pops)
        var("design", ("design",), str, designs)
        var("replication", ("replication",), "i8", np.arange(R))
        for k in ("model_term", "statistic", "model", "claim", "scalar", "stage"):
            var(k, (k,), str, lab[k])
        var("model_of_term", ("model_term",), str, [m for m, _ in mt])
        var("term", ("model_term",), str, [t for _, t in mt])
        var("condition_label", ("condition",), str, [c["label"] for c in man["conditions"]])
        var("n", ("condition",), "i8", [int(c["n"]) for c in man["conditions"]])
        var("design_name", ("design",), str, [man["design_names"][d] for d in designs])
        for gk in man.get("grid_keys", []):
            vals = [c["overrides"].get(gk) for c in man["conditions"]]
            if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
                var(gk, ("condition",), "f8" if any(isinstance(v, float) for v in vals)
                    else "i8", vals)
            else:
                var(gk, ("condition",), str, [json.dumps(v) for v in vals])
        v_est = var("estimates", (*big, "model_term", "statistic"), "f8", chunked=True)
        v_ms = var("model_status", (*big, "model"), str, chunked=True)
        v_cl = var("claims", (*big, "claim"), "f8", chunked=True)
        v_sc = var("scalars", (*big, "scalar"), "f8", chunked=True)
        v_ti = var("timings", (*big, "stage"), "f8", chunked=True)
        v_rs = var("rep_status", big, str, chunked=True)
        v_rm = var("rep_message", big, str, chunked=True)
        keys = var("seed_key", ("population", "replication"), str, chunked=True)
        for p in pops:
            for a in range(0, R, cs):
                keys[p, a:min(R, a + cs)] = np.array(
                    [f"sample/{p}/{r}" for r in range(a, min(R, a + cs))], dtype=object)
        for ci in range(C):
            for pi in pops:
                for di, des in enumerate(designs):
                    covered = np.zeros(R, bool)
                    for a, b, path in reps.get((ci, pi, des), []):
                        ds = read_chunk(path)
                        _check_attrs(path, ds, chash, layout)
                        versions.add(str(ds.attrs.get("code_version", "")))
                        ix = (ci, pi, di, slice(a, b))
                        v_est[ix] = ds["estimates"].transpose(
                            "replication", "model_term", "statistic").values
                        ms = ds["model_status"].values.astype(str)
                        v_ms[ix] = ms.astype(object)
                        sc = ds["scalars"].values
                        v_sc[ix] = sc
                        v_ti[ix] = ds["timings"].values
                        rs = ds["rep_status"].values.astype(str)
                        v_rs[ix] = rs.astype(object)
                        v_rm[ix] = ds["rep_message"].values.astype(str).astype(object)
                        cl, n_bad = stored_claims(unit, ds, lab, rs, ms, sc)
                        mismatches += n_bad
                        v_cl[ix] = cl
                        covered[a:b] = True
                    for a in range(0, R, cs):  # never-run replications (allow_partial)
                        b = min(R, a + cs)
                        if not covered[a:b].all():
                            sl = np.flatnonzero(~covered[a:b]) + a
                            for v, fill in ((v_ms, "not_run"), (v_rs, "not_run"),
                                            (v_rm, "")):
                                cur = np.asarray(v[ci, pi, di, a:b], dtype=object)
                                cur[sl - a] = fill
                                v[ci, pi, di, a:b] = cur
        if ests:
            e_est = var("estimand", ("condition", "population", "model_term", "statistic"), "f8")
            e_st = var("estimand_status", ("condition", "population", "model"), str)
            e_ct = var("claim_truth", ("condition", "population", "claim"), "f8")
            e_sc = var("scalar_truth", ("condition", "population", "scalar"), "f8")
            e_ti = var("estimand_timings", ("condition", "population", "stage"), "f8")
            e_me = var("estimand_message", ("condition", "population"), str)
            for ci in range(C):
                for pi in pops:
                    path = ests.get((ci, pi))
                    if path is None:
                        e_st[ci, pi] = np.array(["not_run"] * M, dtype=object)
                        e_me[ci, pi] = ""
                        continue
                    ds = read_chunk(path)
                    _check_attrs(path, ds, chash, layout)
                    e_est[ci, pi] = ds["estimand"].values
                    e_st[ci, pi] = ds["estimand_status"].values.astype(str).astype(object)
                    e_ct[ci, pi] = stored_claims(unit, ds, lab, None, None, None, truth=True)[0]
                    e_sc[ci, pi] = ds["scalar_truth"].values
                    e_ti[ci, pi] = ds["estimand_timings"].values
                    e_me[ci, pi] = str(ds["estimand_message"].values)
        names = " ".join(aux)
        for name in f.variables:
            if name not in f.dimensions and name not in aux and name != "seed_key":
                f.variables[name].attrs["coordinates"] = names
        f.attrs.update({
            "config": json.dumps(man["config"], default=str),
            "config_hash": chash,
            "layout_hash": layout,
            "code_versions": ",".join(sorted(versions)),
            "root_seed": int(man["root_seed"]),
            "unit": man["unit"],
            "versions": json.dumps(man["versions"]),
            "complete": int(not problems),
            "claims_worker_mismatches": int(mismatches),
            "collected_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        })
    return target


def _results_file(out: str | Path) -> Path:
    """OUT/results.nc (collected first if OUT is a run folder without one), or OUT itself
    when it names a file; UserInputError naming the path when there is none."""
    out = Path(out)
    path = out / "results.nc" if out.is_dir() else out
    if out.is_dir() and not path.exists():
        collect(out)
    if not path.exists():
        raise UserInputError(f"no results at {str(path)!r}", key=str(path))
    return path


def results_path(out: str | Path) -> tuple[Path, dict[str, list[str]], str]:
    """OUT/results.nc (collected now if absent), its labels and its unit's name."""
    path = _results_file(out)
    from sim_refugee.diagnosis.stream import STRING_VARS

    # without the string variables: xarray would decode them whole on opening
    with xr.open_dataset(path, engine=ENGINE, drop_variables=list(STRING_VARS)) as ds:
        lab = {k: [str(x) for x in ds[k].values] for k in
               ("model_term", "statistic", "model", "scalar") if k in ds.coords}
        unit = str(ds.attrs.get("unit", ""))
    return path, lab, unit


def open_results(out: str | Path) -> xr.Dataset:
    """Load OUT/results.nc (collecting first if needed): all of it, in memory (the
    streaming diagnosis reads it by slices instead, ``diagnosis.stream``)."""
    with xr.open_dataset(_results_file(out), engine=ENGINE) as ds:
        return ds.load()
