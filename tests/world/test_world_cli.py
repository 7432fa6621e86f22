"""sim-refugee population / sample / calibration-report, including bad input (exit 2,
message naming the key, nothing written)."""

from __future__ import annotations

import pandas as pd
import pytest

from sim_refugee.cli import main


@pytest.fixture(scope="module")
def pop_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "pop.parquet"
    assert main(["population", "--size", "12000", "--seed", "3", "--out", str(out)]) == 0
    return out


def test_population_and_sample_roundtrip(pop_file, tmp_path):
    pop = pd.read_parquet(pop_file)
    assert len(pop) == 12_000 and "home_site" in pop and "avgpsych" in pop
    out1, out2 = tmp_path / "a.csv", tmp_path / "b.csv"
    for out in (out1, out2):
        assert main(["sample", "--population", str(pop_file), "--design", "paper",
                     "--n", "1346", "--seed", "5", "--out", str(out)]) == 0
    s = pd.read_csv(out1)
    assert len(s) == 1346 and (s["design"] == "paper").all()
    assert out1.read_bytes() == out2.read_bytes()  # same seed, same sample


def test_population_same_seed_identical_file(pop_file, tmp_path):
    out = tmp_path / "again.parquet"
    assert main(["population", "--size", "12000", "--seed", "3", "--out", str(out)]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(out), pd.read_parquet(pop_file))


def test_calibration_report_prints_every_documented_margin(capsys, tmp_path):
    csv = tmp_path / "cal.csv"
    cells = tmp_path / "cells.csv"
    assert main(["calibration-report", "--size", "12000", "--seed", "1", "--out", str(csv),
                 "--table-reps", "2", "--tables-out", str(cells)]) == 0
    text = capsys.readouterr().out
    for name in ("female", "educ_elementary", "province_north_hamgyong", "death_men",
                 "death_women", "camp_total", "arrest", "trafficking", "over_three_years_women",
                 "employed", "dest_south_korea", "dest_united_states", "dest_china"):
        assert name in text
    assert "expected sample" in text and "implied population" in text
    tab = pd.read_csv(csv)
    assert (abs(tab["expected sample"] - tab["target"]) < 0.01).all()
    # the table section: every printed cell with its pattern, expected b and z, hit or why
    assert "cells hit (Table 7:" in text and "valid N:" in text
    cell_tab = pd.read_csv(cells)
    assert len(cell_tab) == 195
    assert {"printed", "expected_b", "expected_z", "hit", "why"} <= set(cell_tab.columns)
    assert (cell_tab["why"].fillna("") != "").eq(~cell_tab["hit"]).all()  # every miss explained


def _bad(argv, capsys, key, out):
    assert main(argv) == 2
    assert key in capsys.readouterr().err
    assert not out.exists() and not list(out.parent.glob(f".{out.name}*"))


def test_bad_population_input(capsys, tmp_path):
    out = tmp_path / "p.parquet"
    _bad(["population", "--size", "-5", "--seed", "1", "--out", str(out)], capsys, "--size", out)
    _bad(["population", "--size", "100", "--seed", "1", "--out", str(out)], capsys, "--size", out)
    _bad(["population", "--size", "2000", "--seed", "-1", "--out", str(out)], capsys, "--seed",
         out)
    cfg = tmp_path / "bad.toml"
    cfg.write_text("size = [unclosed\n")
    _bad(["population", "--seed", "1", "--config", str(cfg), "--out", str(out)], capsys,
         "not valid TOML", out)
    cfg.write_text("[world]\nsize = 1000\ncolour = 'red'\n")
    _bad(["population", "--seed", "1", "--config", str(cfg), "--out", str(out)], capsys,
         "colour", out)
    cfg.write_text("[world]\nsize = 1000\n[world.assumptions]\n'age.sdd' = 3\n")
    _bad(["population", "--seed", "1", "--config", str(cfg), "--out", str(out)], capsys,
         "age.sdd", out)
    _bad(["population", "--seed", "1", "--config", str(tmp_path / "none.toml"), "--out",
          str(out)], capsys, "--config", out)


def test_bad_sample_input(pop_file, capsys, tmp_path):
    out = tmp_path / "s.csv"
    base = ["sample", "--population", str(pop_file), "--seed", "1", "--out", str(out)]
    _bad(base + ["--design", "lottery"], capsys, "lottery", out)
    _bad(base + ["--n", "0"], capsys, "--n", out)
    _bad(base + ["--n", "5000000"], capsys, "--n", out)
    _bad(base + ["--n", "50000"], capsys, "--n 50000 is larger than the population", out)
    _bad(["sample", "--population", str(tmp_path / "nope.parquet"), "--seed", "1", "--out",
          str(out)], capsys, "--population", out)
    params = tmp_path / "params.toml"
    params.write_text("[params]\nn_interviewers = 48\nfoo = 1\n")
    _bad(base + ["--params", str(params)], capsys, "foo", out)
