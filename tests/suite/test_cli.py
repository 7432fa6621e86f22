"""sim-refugee replicate: bad input exits 2 naming the key and writes nothing; a small
run writes every table and the claims."""

from __future__ import annotations

import pandas as pd
import pytest

from sim_refugee.claims import CLAIM_IDS
from sim_refugee.cli import main
from sim_refugee.suite import suite_layout


@pytest.mark.parametrize(
    ("toml", "needle"),
    [
        ("[wrld]\nsize = 100\n", "'wrld'"),
        ("[world]\nsize = -5\n", "world.size"),
        ("[world]\nbogus = 1\n", "world.bogus"),
        ("[suite]\nsnp_order = 'three'\n", "suite.snp_order"),
        ("[suite]\nweights = 'w'\n", "suite.weights"),
        ("[design]\nnonsense = 1\n", "design.nonsense"),
        ("not toml at all [", "not valid TOML"),
    ],
)
def test_bad_config_exits_2_and_writes_nothing(tmp_path, capsys, toml, needle):
    cfg = tmp_path / "c.toml"
    cfg.write_text(toml)
    out = tmp_path / "out"
    assert main(["replicate", "--config", str(cfg), "--seed", "1", "--out", str(out)]) == 2
    assert needle in capsys.readouterr().err
    assert not out.exists()


def test_bad_seed_and_missing_config(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["replicate", "--seed", "-1", "--out", str(out)]) == 2
    assert "--seed" in capsys.readouterr().err
    assert main(["replicate", "--config", str(tmp_path / "nope.toml"), "--seed", "1",
                 "--out", str(out)]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.slow
def test_small_replicate_writes_tables_and_claims(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[world]\nsize = 20000\ncalibration_tol = 0.01\n[suite]\ninclude_variants = false\n")
    out = tmp_path / "out"
    rc = main(["replicate", "--config", str(cfg), "--seed", "5", "--out", str(out),
               "--no-census"])
    assert rc == 0
    names = {p.name for p in out.iterdir()}
    assert {"estimates.csv", "tables.csv", "tests.csv", "scalars.csv", "claims.csv",
            "table7.csv", "table7_standardized.csv", "table9.csv", "report.md"} <= names
    assert not [n for n in names if n.endswith(".tmp")]
    claims = pd.read_csv(out / "claims.csv")
    assert list(claims["claim"]) == list(CLAIM_IDS)
    t7 = pd.read_csv(out / "table7.csv", index_col=[0, 1], keep_default_na=False)
    # 12 regressors x (coefficient, SE) lines, then N, chi-square and p
    assert t7.shape == (27, 7) and t7.loc[("food aid", "b"), "anxious"].endswith("[0.??***]")
    assert t7.loc[("food aid", "se"), "anxious"].startswith("(")
    t9 = pd.read_csv(out / "table9.csv", index_col=[0, 1])
    assert list(t9.columns)[:2] == ["2SPLS(1)", "US-P(1)"]
    est = pd.read_csv(out / "estimates.csv")
    assert len(est) == len(suite_layout().model_terms) and est["structural"].notna().sum() == 84
    report = (out / "report.md").read_text()
    for title in ("Table 1", "Table 6", "Table 7", "Table 8", "Table 9", "claims"):
        assert title in report
