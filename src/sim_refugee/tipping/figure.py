"""The tipping figure (matplotlib, Agg): one panel per target.

1-D: the share measured at every probed point (95% Clopper-Pearson bars), the target
share, the local probit fit within the final bracket, the tipping value and its CI.
2-D (map mode): the boundary: the tipping value (with its CI) against the map
parameter; a row that never tips within the range is marked at the upper end (^), one
already tipped at the lower end at the lower end (v).
"""

from __future__ import annotations

import io
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from sim_refugee.search.rootfind import (  # noqa: E402
    NEVER_TIPS,
    TIPPED_AT_LOWER,
    clopper_pearson,
)
from sim_refugee.tipping.run import TippingRun  # noqa: E402

COLOR = "#1b6ca8"
MARK = "#d1495b"


def _grid(n: int) -> tuple[int, int]:
    cols = min(3, n)
    return math.ceil(n / cols), cols


def figure_1d(run: TippingRun, frame: pd.DataFrame) -> Figure:
    """Share against the direction's value, one panel per target."""
    cfg = run.cfg
    nr, nc = _grid(len(cfg.targets))
    fig, axes = plt.subplots(nr, nc, figsize=(4.6 * nc, 3.6 * nr), squeeze=False)
    for ax, (_row, t, res) in zip(axes.flat, run.results, strict=False):
        tg = cfg.targets[t]
        cov = tg.kind == "coverage"
        flip = (lambda s: 1.0 - s) if cov else (lambda s: s)
        x = np.array([p.x for p in res.probes])
        e = np.array([p.events for p in res.probes])
        m = np.array([p.m for p in res.probes])
        share = flip(e / m)
        ci = np.array([clopper_pearson(int(a), int(b), 0.95) for a, b in zip(e, m, strict=True)])
        lo, hi = (flip(ci[:, 0]), flip(ci[:, 1])) if not cov else (flip(ci[:, 1]), flip(ci[:, 0]))
        ax.errorbar(x, share, yerr=[share - lo, hi - share], fmt="o", ms=3, color=COLOR,
                    ecolor="#9bbbd4", lw=1, label="probes (95% CI)")
        ax.axhline(flip(tg.threshold), color="#555555", ls="--", lw=1,
                   label=f"{'level' if cov else 'share'} {flip(tg.threshold):g}")
        if res.fit is not None:
            xs = np.linspace(res.fit.center - res.fit.scale, res.fit.center + res.fit.scale, 100)
            ax.plot(xs, flip(res.fit.share(xs)), color=MARK, lw=1.2, label="local probit fit")
        if math.isfinite(res.value):
            ax.axvline(res.value, color=MARK, lw=1)
        if math.isfinite(res.ci_low) and math.isfinite(res.ci_high):
            ax.axvspan(res.ci_low, res.ci_high, color=MARK, alpha=0.15,
                       label=f"{cfg.solver.ci_level:.0%} CI")
        val = f"{res.value:.4g}" if math.isfinite(res.value) else "none"
        ax.set_title(f"{tg.label}\n{res.status}: {val} ({res.replications} reps)", fontsize=9)
        ax.set_xlabel(cfg.direction.label, fontsize=8)
        ax.set_ylabel("coverage" if cov else "share of samples", fontsize=8)
        ax.set_xlim(cfg.space.value(0), cfg.space.value(cfg.space.size))
        ax.set_ylim(-0.03, 1.03)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=6, loc="best")
    for ax in list(axes.flat)[len(run.results):]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def figure_2d(run: TippingRun, frame: pd.DataFrame) -> Figure:
    """The tipping boundary over the map parameter, one panel per target."""
    cfg = run.cfg
    nr, nc = _grid(len(cfg.targets))
    fig, axes = plt.subplots(nr, nc, figsize=(4.6 * nc, 3.6 * nr), squeeze=False)
    lower, upper = cfg.space.value(0), cfg.space.value(cfg.space.size)
    for ax, tg in zip(axes.flat, cfg.targets, strict=False):
        f = frame[frame["target"] == tg.label].sort_values("map_value")
        ok = f[np.isfinite(f["value"]) & (f["status"] != TIPPED_AT_LOWER)]
        yerr = np.array([ok["value"] - ok["ci_low"], ok["ci_high"] - ok["value"]])
        yerr = np.where(np.isfinite(yerr), yerr, 0.0)
        ax.errorbar(ok["map_value"], ok["value"], yerr=yerr, fmt="o-", ms=4, color=COLOR,
                    ecolor="#9bbbd4", lw=1, capsize=2,
                    label=f"tipping value ({cfg.solver.ci_level:.0%} CI)")
        never = f[f["status"] == NEVER_TIPS]
        at_low = f[f["status"] == TIPPED_AT_LOWER]
        if len(never):
            ax.plot(never["map_value"], [upper] * len(never), "^", color=MARK,
                    label="never tips in range")
        if len(at_low):
            ax.plot(at_low["map_value"], [lower] * len(at_low), "v", color="#2e933c",
                    label="tipped at lower end")
        ax.axhline(lower, color="#999999", lw=0.8, ls=":")
        ax.axhline(upper, color="#999999", lw=0.8, ls=":")
        ax.set_title(tg.label, fontsize=9)
        ax.set_xlabel(cfg.map_parameter or "", fontsize=8)
        ax.set_ylabel(cfg.direction.label, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=6, loc="best")
    for ax in list(axes.flat)[len(cfg.targets):]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def tipping_figure_png(run: TippingRun, frame: pd.DataFrame) -> bytes:
    """The figure of a run as PNG bytes (written by the caller)."""
    fig = figure_2d(run, frame) if run.cfg.map_parameter else figure_1d(run, frame)
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=120)
    finally:
        plt.close(fig)
    return buf.getvalue()
