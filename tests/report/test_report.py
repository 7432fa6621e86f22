"""The report: written atomically, figures exist, printed numbers equal the data's."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from sim_refugee.errors import UserInputError
from sim_refugee.report import make_report, per_replication_share, sweep_axis
from sim_refugee.report.data import load_run

from .report_synthetic import (
    KEY_CLAIM,
    KEY_ERR,
    KEY_P,
    SE,
    synthetic_results,
    table_rows,
    write_run,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
Z = 1.959963984540054


def _hand_cell(v: float, m: float) -> str:
    return f"{v:.3f} ({m:.3f})"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One full report (with figures) shared by the tests that only read it."""
    path = make_report(write_run(tmp_path_factory.mktemp("built") / "run"))
    return path, path.read_text()


def test_report_and_figures_written(report: tuple[Path, str]) -> None:
    path, md = report
    assert path.name == "report.md" and path.parent.name == "report"
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    # per condition: terms + claims figures (2 conditions); the n sweep: claims, terms
    # and one power-curve figure per design
    assert {"terms_c000.png", "terms_c001.png", "claims_c000.png", "claims_c001.png",
            "sweep_claims.png", "sweep_terms.png", "power_curves_paper.png",
            "power_curves_srs.png"} <= set(images)
    for name in images:
        data = (path.parent / name).read_bytes()
        assert data[:8] == PNG_MAGIC, name
        assert len(data) > 5000, name  # a real plot, not an empty canvas
    assert not [p for p in path.parent.parent.iterdir() if p.name.startswith(".report")]
    # the tables-only report has the same text apart from the figure lines
    tables_only = make_report(path.parent.parent, path.parent.parent / "tables",
                              figures=False).read_text()
    assert "![" not in tables_only
    def tables(text: str) -> list[str]:
        return [ln for ln in text.splitlines() if ln.startswith("|")]

    assert tables(tables_only) == tables(md) and len(tables(md)) > 50


def test_term_numbers_equal_hand_computed(report: tuple[Path, str]) -> None:
    _, md = report
    rows = table_rows(md, "### sample.n=300 / paper").set_index("term")
    row = rows.loc["t7_anxious:foodaid"]
    # coverage: 6 of the 8 hand-made errors are within 1.96 * SE
    cov = np.mean(np.abs(KEY_ERR) <= Z * SE)
    assert cov == 0.75
    assert row["coverage"] == _hand_cell(cov, np.sqrt(cov * (1 - cov) / 8))
    pw = np.mean(KEY_P < 0.05)
    assert row["power"] == _hand_cell(pw, np.sqrt(pw * (1 - pw) / 8))
    assert row["bias"] == _hand_cell(KEY_ERR.mean(), KEY_ERR.std(ddof=1) / np.sqrt(8))
    assert row["estimand"] == "0.500"
    assert row["emp_se"].startswith(f"{KEY_ERR.std(ddof=1):.3f} (")


def test_claim_numbers_equal_hand_computed(report: tuple[Path, str]) -> None:
    _, md = report
    rows = table_rows(md, "### Claims: sample.n=300").set_index("claim")
    p = KEY_CLAIM.mean()
    assert rows.loc["foodaid_all7", "paper"] == _hand_cell(p, np.sqrt(p * (1 - p) / 8))
    assert rows.loc["foodaid_all7", "truth"] == "1.00"
    summary = table_rows(md, "## Summary")
    first = summary[(summary["condition"] == "sample.n=300") & (summary["design"] == "paper")]
    assert first["foodaid_all7"].item() == _hand_cell(p, np.sqrt(p * (1 - p) / 8))
    assert first["replications"].item() == "8"


def test_coverage_share_is_per_replication_mean() -> None:
    res = synthetic_results()
    est = res["estimates"].values[0, 0, 0]  # condition c000, design paper: (rep, term, stat)
    err = est[:, :2, 0] - np.array([0.5, 0.3])
    share_r = (np.abs(err) <= Z * est[:, :2, 1]).mean(axis=1)
    mean, mcse, n = per_replication_share(res, ["t7_anxious:foodaid", "t7_fear:foodaid"])
    assert n[0, 0] == 8
    assert mean[0, 0] == pytest.approx(share_r.mean(), abs=1e-12)
    assert mcse[0, 0] == pytest.approx(share_r.std(ddof=1) / np.sqrt(8), abs=1e-12)


def test_coverage_share_in_summary_table(report: tuple[Path, str]) -> None:
    _, md = report
    res = synthetic_results()
    est = res["estimates"].values[1, 0, 1]  # condition c001, design srs
    err = est[:, :2, 0] - np.array([0.5, 0.3])
    share_r = (np.abs(err) <= Z * est[:, :2, 1]).mean(axis=1)
    summary = table_rows(md, "## Summary")
    cell = summary[(summary["condition"] == "sample.n=1346") & (summary["design"] == "srs")]
    assert cell["T7 experiential coverage share"].item() == _hand_cell(
        share_r.mean(), share_r.std(ddof=1) / np.sqrt(8))


def test_failed_fits_are_excluded_from_coverage_share(tmp_path: Path) -> None:
    res = synthetic_results()
    ms = res["model_status"].values.copy()
    ms[0, 0, 0, 3, 0] = "not_converged"  # replication 3 of c000/paper: t7_anxious failed
    res["model_status"] = (res["model_status"].dims, ms)
    mean, _, n = per_replication_share(res, ["t7_anxious:foodaid", "t7_fear:foodaid"])
    assert n[0, 0] == 7 and n[0, 1] == 8
    est = res["estimates"].values[0, 0, 0]
    keep = np.arange(8) != 3
    err = est[keep, :2, 0] - np.array([0.5, 0.3])
    assert mean[0, 0] == pytest.approx((np.abs(err) <= Z * SE).mean(axis=1).mean())


def test_sweep_axis_from_manifest(run_dir: Path) -> None:
    key, x, labels = sweep_axis(load_run(run_dir))
    assert key == "sample.n" and list(x) == [300.0, 1346.0] and labels == ["", ""]


def test_report_without_kept_diagnostics(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", with_diagnostics=False)
    md = make_report(run, figures=False).read_text()
    assert "diagnosis computed from results.nc" in md
    rows = table_rows(md, "### sample.n=300 / paper").set_index("term")
    assert rows.loc["t7_anxious:foodaid", "coverage"] == _hand_cell(0.75, np.sqrt(.75 * .25 / 8))


def test_missing_folder_is_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="does not exist"):
        make_report(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserInputError, match="manifest.json"):
        make_report(tmp_path / "empty")
    (tmp_path / "empty" / "manifest.json").write_text(json.dumps({"name": "x"}))
    with pytest.raises(UserInputError, match="diagnostics.nc nor results.nc"):
        make_report(tmp_path / "empty")
    assert not (tmp_path / "empty" / "report").exists()


def test_failed_build_leaves_old_report(run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = make_report(run_dir, figures=False)
    before = first.read_text()
    from sim_refugee.report import build

    def boom(*a, **k):
        raise RuntimeError("table failed")

    monkeypatch.setattr(build._Report, "detail_tables", boom)
    with pytest.raises(RuntimeError, match="table failed"):
        make_report(run_dir, figures=False)
    assert first.read_text() == before
    assert sorted(p.name for p in run_dir.iterdir() if p.name.startswith(".")) == []


def test_cli_exit_codes(run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from sim_refugee.cli import main

    assert main(["report", str(run_dir), "--no-figures"]) == 0
    assert (run_dir / "report" / "report.md").is_file()
    assert main(["report", str(tmp_path / "no")]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and str(tmp_path / "no") in err
    assert not (tmp_path / "no").exists()


def test_positive_share_counts_sign_and_significance() -> None:
    res = synthetic_results()
    est = res["estimates"].values[0, 0, 0]  # c000 / paper: (rep, term, stat)
    pos = (est[:, :2, 0] > 0) & (est[:, :2, 2] < 0.05)
    mean, mcse, _ = per_replication_share(res, ["t7_anxious:foodaid", "t7_fear:foodaid"],
                                          "positive")
    assert mean[0, 0] == pytest.approx(pos.mean(axis=1).mean(), abs=1e-12)
    # the key cell's p-values: 3 of 8 below 0.05, all with positive estimates (0.5 + err)
    assert (est[:, 0, 0] > 0).all() and (KEY_P < 0.05).sum() == 3
    with pytest.raises(ValueError, match="kind"):
        per_replication_share(res, ["t7_anxious:foodaid"], "bogus")


def test_heatmaps_show_the_diagnosed_values() -> None:
    from sim_refugee.diagnosis import diagnose
    from sim_refugee.report import figures

    diag = diagnose(synthetic_results())
    terms = ["t7_anxious:foodaid", "t7_fear:foodaid"]
    fig = figures.terms_heatmap(diag, "c000", terms)
    cov_ax = fig.axes[1]
    shown = cov_ax.images[0].get_array()
    # row 0 = t7_anxious:foodaid, column 0 = design paper: the hand-made 6 of 8
    assert shown[0, 0] == pytest.approx(0.75)
    assert "0.75" in [t.get_text() for t in cov_ax.texts]
    fig2 = figures.claims_heatmap(diag, "c000")
    arr = fig2.axes[0].images[0].get_array()
    assert arr[1, 0] == pytest.approx(KEY_CLAIM.mean())  # foodaid_all7, paper
