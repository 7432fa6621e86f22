"""Every malformed input listed in issue #14: exit code 2, the key or column named, no
traceback, nothing written."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from sim_refugee.cli import main
from tests.validation.conftest import SUITE, TOY, listing, small_population


def _run_refused(tmp_path: Path, capsys, monkeypatch, text: str, key: str,
                 extra: tuple[str, ...] = ()) -> str:
    """``sim-refugee run`` on ``text`` from inside tmp_path (so the default runs/<name>
    lands there): exit 2, ``key`` named, and nothing but the config file afterwards."""
    cfg = tmp_path / "c.toml"
    cfg.write_text(text)
    monkeypatch.chdir(tmp_path)
    before = listing(tmp_path)
    code = main(["run", str(cfg), "--no-progress", *extra])
    err = capsys.readouterr().err
    assert code == 2, err
    assert key in err, err
    assert "Traceback" not in err
    assert listing(tmp_path) == before, "something was written"
    assert not (tmp_path.parent / "x").exists(), "something was written outside"
    return err


# (case, text old -> new in the config, key named in the message)
SUITE_CASES = [
    ("replications = true", ("replications = 2", "replications = true"),
     "experiment.replications"),
    ("size as a string", ("size = 2000", 'size = "20000"'), "world.size"),
    ("n as a float", ("n = 100", "n = 1346.0"), "sample.n"),
    ("n = true", ("n = 100", "n = true"), "sample.n"),
    ("root_seed as a string", ("root_seed = 1", 'root_seed = "1"'), "experiment.root_seed"),
    ("include_variants = 'yes'", ("include_variants = false", 'include_variants = "yes"'),
     "unit.include_variants"),
    ("include_variants = 'off'", ("include_variants = false", 'include_variants = "off"'),
     "unit.include_variants"),
    ("snp_order = true", ("include_variants = false", "snp_order = true"), "unit.snp_order"),
    ("accept_by nan", ('name = "rds"', 'name = "rds"\nparams = { accept_by = { foodaid = nan } }'),
     "designs.1.params.accept_by.foodaid"),
    ("nonresponse_slope nan",
     ('name = "paper"', 'name = "paper"\nparams = { artefacts = { nonresponse_slope = nan } }'),
     "designs.0.params.artefacts.nonresponse_slope"),
    ("interviewer_sd inf",
     ('name = "paper"', 'name = "paper"\nparams = { artefacts = { interviewer_sd = inf } }'),
     "designs.0.params.artefacts.interviewer_sd"),
    ("selection.or_urban inf", ("size = 2000", "size = 2000\nselection = { or_urban = inf }"),
     "world.selection.or_urban"),
    ("selection.base nan", ("size = 2000", "size = 2000\nselection = { base = nan }"),
     "world.selection.base"),
    ("replications 2^63-1", ("replications = 2", "replications = 9223372036854775807"),
     "experiment.replications"),
    ("300-character name", ('name = "v"', f'name = "{"n" * 300}"'), "experiment.name"),
    ("NUL in the name", ('name = "v"', 'name = "a\\u0000b"'), "experiment.name"),
    ("name escapes runs/", ('name = "v"', 'name = "../../x"'), "experiment.name"),
    ("label escapes --out", ('name = "paper"', 'name = "paper"\nlabel = "../../../../x"'),
     "designs.0.label"),
    ("label makes a subfolder", ('name = "paper"', 'name = "paper"\nlabel = "a/b"'),
     "designs.0.label"),
    ("memory = 'lots'", ("", '\n[cluster]\nmemory = "lots"\n'), "cluster.memory"),
    ("results too large", ("replications = 2", "replications = 900000"),
     "experiment.replications"),
    ("assumption nan", ("size = 2000", "size = 2000\nassumptions = { 'age.sd' = nan }"),
     "age.sd"),
]


@pytest.mark.parametrize("case,change,key", SUITE_CASES, ids=[c[0] for c in SUITE_CASES])
def test_config_case_refused(tmp_path, capsys, monkeypatch, case, change, key) -> None:
    old, new = change
    text = SUITE + new if old == "" else SUITE.replace(old, new, 1)
    assert text != SUITE
    _run_refused(tmp_path, capsys, monkeypatch, text, key)


def test_out_is_an_existing_file(tmp_path, capsys, monkeypatch) -> None:
    (tmp_path / "taken").write_text("keep me")
    _run_refused(tmp_path, capsys, monkeypatch, TOY, "--out", ("--out", "taken"))
    assert (tmp_path / "taken").read_text() == "keep me"


def test_out_under_a_file(tmp_path, capsys, monkeypatch) -> None:
    (tmp_path / "afile").write_text("")
    err = _run_refused(tmp_path, capsys, monkeypatch, TOY, "--out", ("--out", "afile/run"))
    assert "is a file" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to any folder")
def test_out_in_an_unwritable_folder(tmp_path, capsys, monkeypatch) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        err = _run_refused(tmp_path, capsys, monkeypatch, TOY, "--out", ("--out", "ro/run"))
        assert "not writable" in err
    finally:
        ro.chmod(0o700)


def test_write_failure_leaves_nothing(tmp_path, capsys, monkeypatch) -> None:
    """When the first write fails (what an unwritable folder does to a non-root user),
    the run stops with exit 2 and removes the folder it made."""
    import sim_refugee.engine.run as run

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(run, "write_manifest", refuse)
    err = _run_refused(tmp_path, capsys, monkeypatch, TOY, "--out", ("--out", "run"))
    assert "Permission denied" in err


@pytest.mark.timeout(60)
def test_slurm_cluster_without_sbatch(tmp_path, capsys, monkeypatch) -> None:
    pytest.importorskip("dask_jobqueue")
    import sim_refugee.engine.backends as backends

    monkeypatch.setattr(backends.shutil, "which", lambda cmd: None)  # a machine without SLURM
    text = TOY + '\n[cluster]\nkind = "slurm"\nmemory = "2GB"\n'
    err = _run_refused(tmp_path, capsys, monkeypatch, text, "cluster.kind",
                       ("--backend", "dask", "--out", "run"))
    assert "sbatch" in err


def test_world_that_fails_while_running_leaves_nothing(tmp_path, capsys, monkeypatch) -> None:
    """Bad input found only when the population is built (nobody reachable): exit 2 and
    no manifest left behind, so the corrected config can use the same --out."""
    text = SUITE.replace("size = 2000", "size = 2000\nselection = { base = -1e6 }")
    err = _run_refused(tmp_path, capsys, monkeypatch, text, "selection", ("--out", "run"))
    assert "reachable" in err


# ---------------------------------------------------------------------------
# sample --population
# ---------------------------------------------------------------------------


def _mutations():
    def drop(col):
        return lambda p: p.drop(columns=[col])

    def put(col, value, dtype=None):
        def f(p):
            if dtype is not None:
                p[col] = p[col].astype(dtype)
            p.loc[3, col] = value
            return p
        return f

    return [
        ("missing female", drop("female"), "female"),
        ("missing person_id", drop("person_id"), "person_id"),
        ("female as strings", lambda p: p.assign(female=p["female"].map({0: "m", 1: "f"})),
         "female"),
        ("female NaN", put("female", np.nan, float), "female"),
        ("anger = 9", put("anger", 9), "anger"),
        ("urban_china (read by the paper design) as strings",
         lambda p: p.assign(urban_china=p["urban_china"].astype(str)), "urban_china"),
        ("distress as strings", lambda p: p.assign(distress=p["distress"].astype(str)),
         "distress"),
        ("unknown province", put("province", "atlantis"), "province"),
        ("duplicated person_id", put("person_id", 0), "person_id"),
        ("years_in_china inf", put("years_in_china", np.inf), "years_in_china"),
    ]


@pytest.mark.parametrize("case,mutate,column", _mutations(), ids=[m[0] for m in _mutations()])
def test_bad_population_file_refused(tmp_path, capsys, case, mutate, column) -> None:
    pop = mutate(small_population().copy())
    src = tmp_path / "bad.parquet"
    pop.to_parquet(src, index=False)
    out = tmp_path / "s.csv"
    before = listing(tmp_path)
    code = main(["sample", "--population", str(src), "--seed", "1", "--n", "100",
                 "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert repr(column) in err, err
    assert listing(tmp_path) == before


def test_selection_attrs_checked(tmp_path, capsys) -> None:
    pop = small_population().copy()
    pop.attrs = {**pop.attrs, "selection": {**pop.attrs["selection"], "or_urban": float("inf")}}
    src = tmp_path / "bad.parquet"
    pop.to_parquet(src, index=False)
    out = tmp_path / "s.csv"
    assert main(["sample", "--population", str(src), "--seed", "1", "--n", "100",
                 "--out", str(out)]) == 2
    assert "attrs.selection.or_urban" in capsys.readouterr().err
    assert not out.exists()


def test_extra_column_read_by_params_must_be_numeric(pop_file, tmp_path, capsys) -> None:
    pop = small_population().copy()
    pop["mood"] = "fine"
    src = tmp_path / "extra.parquet"
    pop.to_parquet(src, index=False)
    params = tmp_path / "p.toml"
    params.write_text("[params]\naccept_by = { mood = 0.5 }\n")
    out = tmp_path / "s.csv"
    assert main(["sample", "--population", str(src), "--design", "rds", "--seed", "1",
                 "--n", "100", "--params", str(params), "--out", str(out)]) == 2
    assert "'mood'" in capsys.readouterr().err
    assert not out.exists()


def test_good_population_file_is_sampled(pop_file, tmp_path) -> None:
    out = tmp_path / "s.csv"
    assert main(["sample", "--population", str(pop_file), "--seed", "1", "--n", "100",
                 "--out", str(out)]) == 0
    assert out.is_file() and listing(tmp_path) == {"s.csv"}


@pytest.mark.parametrize("argv,key", [
    (["--n", "0"], "--n"),
    (["--out", "OUTDIR"], "--out"),
])
def test_sample_flags(pop_file, tmp_path, capsys, argv, key) -> None:
    argv = [a.replace("OUTDIR", str(tmp_path)) for a in argv]
    base = ["sample", "--population", str(pop_file), "--seed", "1"]
    if "--out" not in argv:
        argv = [*argv, "--out", str(tmp_path / "s.csv")]
    assert main(base + argv) == 2
    assert key in capsys.readouterr().err
    assert listing(tmp_path) == set()


@pytest.mark.timeout(120)
def test_cluster_whose_jobs_never_start_stops_with_a_message(monkeypatch) -> None:
    """The scheduler's commands exist but no job starts (wrong queue, say): after the
    wait the run stops with a message naming [cluster] instead of a traceback."""
    pytest.importorskip("dask_jobqueue")
    from dask.distributed import LocalCluster

    import sim_refugee.engine.backends as backends
    from sim_refugee.engine.config import ClusterSection
    from sim_refugee.errors import UserInputError

    def no_jobs(c: ClusterSection) -> LocalCluster:  # a cluster whose jobs stay queued
        cluster = LocalCluster(n_workers=0, processes=False, dashboard_address=None)
        cluster.scale = lambda jobs: None
        return cluster

    monkeypatch.setattr(backends, "make_jobqueue_cluster", no_jobs)
    with pytest.raises(UserInputError, match="no Dask worker started") as info:
        backends.DaskBackend(1, None, ClusterSection(), wait_timeout=1.0)
    assert info.value.key == "cluster"
