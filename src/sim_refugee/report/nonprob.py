"""The report's section on the nonprobability-sample diagnostics (``diagnosis.nonprob_mc``).

One figure per condition: for each outcome and design, the true bias of the sample mean
(mean realised error, +/- 1.96 MCSE) beside the interval between the mean MUB(0) and
mean MUB(1) and, for proportions, the range of the mean MUBP over phi in {0, 0.5, 1};
then the summary table
of ``nonprob_mc.nonprob_table`` per condition x design. Numbers are read from the
diagnosis only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from sim_refugee.diagnosis.measures import Z975  # noqa: E402
from sim_refugee.diagnosis.nonprob_mc import (  # noqa: E402
    INTRO,
    SUMMARY_COLUMNS,
    nonprob_table,
)
from sim_refugee.report.figures import COLORS  # noqa: E402

if TYPE_CHECKING:
    from sim_refugee.report.build import _Report


def _mean(diag: xr.Dataset, c: str, des: str, o: str, dg: str, ms: str) -> tuple[float, float]:
    s = diag.sel(condition=c, design=des, outcome=o, nonprob_diagnostic=dg, nonprob_measure=ms)
    return float(s["nonprob_value"]), float(s["nonprob_mcse"])


def intervals_figure(diag: xr.Dataset, condition: str, title: str = "") -> Figure:
    """True bias (diamond, +/- 1.96 MCSE) and the mean MUB / MUBP intervals (bars), per
    outcome (rows) and design (offset rows), divided by the outcome's population SD
    (standardized, as SMUB; outcome units when the diagnosis has no SD)."""
    outcomes = [str(o) for o in diag["outcome"].values]
    designs = [str(d) for d in diag["design"].values]
    fig, ax = plt.subplots(figsize=(8.5, 1.2 + 0.45 * len(outcomes) * max(1, len(designs)) / 2))
    step = 0.8 / max(1, len(designs))
    sd = {o: float(diag["nonprob_truth_sd"].sel(condition=condition, outcome=o))
          if "nonprob_truth_sd" in diag else np.nan for o in outcomes}
    scale = {o: v if np.isfinite(v) and v > 0 else 1.0 for o, v in sd.items()}
    for di, des in enumerate(designs):
        col = COLORS[di % len(COLORS)]
        for oi, o in enumerate(outcomes):
            y0 = len(outcomes) - 1 - oi + 0.4 - step * (di + 0.5)
            for names, dy, lw, alpha in ((("mub0", "mub1"), 0.12, 7, 0.35),
                                         (("mubp0", "mubp05", "mubp1"), -0.12, 2.5, 0.95)):
                ends = [_mean(diag, condition, des, o, k, "predicted")[0] / scale[o]
                        for k in names]
                if np.isfinite(ends).all():
                    ax.plot([min(ends), max(ends)], [y0 + dy * step] * 2, color=col, lw=lw,
                            alpha=alpha, solid_capstyle="butt")
            b, m = (v / scale[o] for v in _mean(diag, condition, des, o, "meng", "true_bias"))
            if np.isfinite(b):
                ax.errorbar([b], [y0], xerr=[[Z975 * np.nan_to_num(m)]] * 2, fmt="D", ms=4.5,
                            mfc=col, mec="k", ecolor="k", elinewidth=0.8, capsize=2,
                            label=des if oi == 0 else None)
    ax.axvline(0, color="0.6", lw=0.8)
    ax.set_yticks(np.arange(len(outcomes))[::-1], outcomes)
    standardized = all(np.isfinite(v) and v > 0 for v in sd.values())
    ax.set_xlabel("bias of the sample mean / population SD" if standardized
                  else "bias of the sample mean (outcome units)")
    ax.set_title(title or f"True bias and mean MUB (wide) / MUBP (narrow) intervals "
                 f"({condition})", fontsize=10)
    if designs:
        ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    return fig


def section(report: _Report) -> None:
    """Append the section to a report being built (lines and figures); nothing when the
    run recorded no nonprob diagnostics."""
    from sim_refugee.report.build import _table

    d = report.run.diag
    if "nonprob_value" not in d:
        return
    lines = report.lines
    lines += ["## Nonprobability-sample diagnostics against the truth", "", INTRO, ""]
    header = ["outcome", "population value", *(h for h, _, _ in SUMMARY_COLUMNS)]
    for ci, c in enumerate(report.conds):
        lab = report.labels[ci]
        report.save(lambda c=c, lab=lab: intervals_figure(
            d, c, f"True bias and mean MUB (wide) / MUBP (narrow) intervals: {lab}"),
            f"nonprob_{c}.png",
            f"True bias of each outcome's sample mean in population SDs (diamonds, black "
            f"bars +/- 1.96 MCSE), "
            f"the mean MUB interval [MUB(0), MUB(1)] (wide, pale) and the mean MUBP range "
            f"over phi = 0, 0.5, 1 (narrow), by design ({lab})")
        for des in report.designs:
            lines += [f"### {lab} / {des}", ""]
            lines += _table(header, nonprob_table(d, c, des))
