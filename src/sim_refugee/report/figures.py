"""Figures of a diagnosed run (matplotlib, Agg backend), each with Monte Carlo error bars.

Every error bar is +/- 1.96 Monte Carlo standard errors of the plotted measure (from the
diagnosis, or from per-replication shares, see ``data.per_replication_share``), so a
reader can tell Monte Carlo noise from a real difference. Functions return a Figure and
never write; ``build`` saves them.
"""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from sim_refugee.diagnosis.measures import Z975  # noqa: E402
from sim_refugee.report.data import EXPERIENTIAL, T7_ITEMS  # noqa: E402

COLORS = ("#1b6ca8", "#d1495b", "#2e933c", "#edae49", "#6a4c93", "#00798c", "#8d6a9f",
          "#444444", "#c05805", "#66a182")
MARKERS = ("o", "s", "D", "^", "v", "P", "X", "<", ">", "h")


def term_label(mt: str) -> str:
    """'t7_anxious:foodaid' -> 'foodaid | anxious' (variable first: rows group by it)."""
    model, term = mt.split(":", 1)
    if model.startswith("t7_"):
        return f"{term} | {model[3:]}"
    return f"{term} | {model.replace('t9_2spls_', '2SPLS ')}"


def prop_err(v: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Asymmetric +/- 1.96 MCSE bars of a proportion, clipped to [0, 1]."""
    half = Z975 * np.nan_to_num(np.asarray(m, dtype=float))
    v = np.asarray(v, dtype=float)
    lo = np.clip(np.minimum(half, v), 0, None)
    hi = np.clip(np.minimum(half, 1 - v), 0, None)
    return np.nan_to_num(np.vstack([lo, hi]))


def _offsets(k: int, width: float = 0.6) -> np.ndarray:
    if k == 1:
        return np.zeros(1)
    return np.linspace(-width / 2, width / 2, k)


def terms_figure(diag: xr.Dataset, condition: str, terms: list[str], title: str = "") -> Figure:
    """Bias and coverage of the focus terms, one colour per design (one condition)."""
    designs = [str(d) for d in diag["design"].values]
    sub = diag.sel(condition=condition, basis="successes", model_term=terms)
    ny = len(terms)
    fig, axes = plt.subplots(1, 3, figsize=(13, 1.6 + 0.24 * ny), sharey=True,
                             gridspec_kw={"width_ratios": [1.2, 1, 1]})
    y = np.arange(ny)[::-1]
    off = _offsets(len(designs), 0.55)
    panels = (("bias", "bias (estimate - census fit)", 0.0),
              ("coverage", "coverage of 95% CI", 0.95),
              ("power", "power / rejection rate (p < 0.05)", None))
    for ax, (meas, xlabel, ref) in zip(axes, panels, strict=True):
        for j, des in enumerate(designs):
            v = sub["value"].sel(design=des, measure=meas).values
            m = sub["mcse"].sel(design=des, measure=meas).values
            xerr = Z975 * np.nan_to_num(m) if meas == "bias" else prop_err(v, m)
            ax.errorbar(v, y + off[j], xerr=xerr, fmt=MARKERS[j % 10],
                        color=COLORS[j % 10], ms=4, lw=1, capsize=0, label=des)
        if ref is not None:
            ax.axvline(ref, color="k", lw=0.8, ls="--")
        ax.set_xlabel(xlabel)
        ax.grid(axis="x", alpha=0.3)
        if meas in ("coverage", "power"):
            ax.set_xlim(-0.03, 1.03)
        # separate the groups of terms (one group per regressor)
        groups = [term_label(t).split(" | ")[0] for t in terms]
        for i in range(1, ny):
            if groups[i] != groups[i - 1]:
                ax.axhline(y[i] + 0.5, color="0.6", lw=0.6)
    axes[0].set_yticks(y)
    axes[0].set_yticklabels([term_label(t) for t in terms], fontsize=8)
    axes[0].set_ylim(-0.7, ny - 0.3)
    axes[-1].legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, title="design")
    fig.suptitle(title or f"Focus terms, condition {condition}", fontsize=11)
    fig.text(0.01, 0.005, "bars: +/- 1.96 Monte Carlo SE; dashed: no bias / nominal 95%",
             fontsize=7, color="0.3")
    fig.tight_layout(rect=(0, 0.015, 1, 1))
    return fig


def terms_heatmap(diag: xr.Dataset, condition: str, terms: list[str], title: str = "") -> Figure:
    """Bias and coverage of the focus terms as term x design heat maps.

    Used instead of ``terms_figure`` when there are too many designs for one colour each;
    the MCSEs are in the report's tables (and in the cross-study sweep figures).
    """
    designs = [str(d) for d in diag["design"].values]
    sub = diag.sel(condition=condition, basis="successes", model_term=terms)
    ny, nx = len(terms), len(designs)
    fig, axes = plt.subplots(1, 2, figsize=(4 + 0.9 * nx, 1.8 + 0.22 * ny), sharey=True)
    bias = sub["value"].sel(measure="bias").transpose("model_term", "design").values
    cov = sub["value"].sel(measure="coverage").transpose("model_term", "design").values
    lim = float(np.nanmax(np.abs(bias))) if np.isfinite(bias).any() else 1.0
    panels = ((axes[0], bias, "RdBu_r", -lim, lim, "bias (estimate - census fit)", "{:+.2f}"),
              (axes[1], cov, "viridis", 0.0, 1.0, "coverage of 95% CI", "{:.2f}"))
    for ax, arr, cmap, lo, hi, lab, f in panels:
        im = ax.imshow(arr, aspect="auto", cmap=cmap, vmin=lo, vmax=hi)
        for i in range(ny):
            for j in range(nx):
                if np.isfinite(arr[i, j]):
                    shade = (arr[i, j] - lo) / (hi - lo) if hi > lo else 0.5
                    dark = shade < 0.35 if cmap == "viridis" else abs(shade - 0.5) > 0.35
                    ax.text(j, i, f.format(arr[i, j]), ha="center", va="center", fontsize=6,
                            color="white" if dark else "black")
        ax.set_xticks(range(nx))
        ax.set_xticklabels(designs, rotation=60, ha="right", fontsize=8)
        ax.set_title(lab, fontsize=9)
        fig.colorbar(im, ax=ax, fraction=0.04, pad=0.02)
    axes[0].set_yticks(range(ny))
    axes[0].set_yticklabels([term_label(t) for t in terms], fontsize=8)
    fig.suptitle(title or f"Focus terms, condition {condition}", fontsize=11)
    fig.text(0.01, 0.005, "Monte Carlo SEs: see the tables of the report", fontsize=7,
             color="0.3")
    fig.tight_layout(rect=(0, 0.015, 1, 1))
    return fig


def claims_heatmap(diag: xr.Dataset, condition: str, title: str = "") -> Figure:
    """Claim reproduction rate as a claim x design heat map (many designs)."""
    designs = [str(d) for d in diag["design"].values]
    claims = [str(c) for c in diag["claim"].values]
    sub = diag.sel(condition=condition)
    arr = sub["claim_value"].sel(claim_measure="reproduction_rate_all").transpose(
        "claim", "design").values
    truth = sub["claim_value"].isel(design=0).sel(claim_measure="truth_rate").values
    ny, nx = len(claims), len(designs)
    fig, ax = plt.subplots(figsize=(4.5 + 0.6 * nx, 1.8 + 0.22 * ny))
    im = ax.imshow(arr, aspect="auto", cmap="viridis", vmin=0, vmax=1)
    for i in range(ny):
        for j in range(nx):
            if np.isfinite(arr[i, j]):
                ax.text(j, i, f"{arr[i, j]:.2f}", ha="center", va="center", fontsize=6,
                        color="white" if arr[i, j] < 0.35 else "black")
    ax.set_xticks(range(nx))
    ax.set_xticklabels(designs, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(ny))
    ax.set_yticklabels([f"{c} [{'T' if t == 1 else 'F' if t == 0 else '?'}]"
                        for c, t in zip(claims, truth, strict=True)], fontsize=8)
    fig.colorbar(im, ax=ax, fraction=0.04, pad=0.02, label="reproduction rate")
    ax.set_title(title or f"Claim reproduction, condition {condition}", fontsize=11)
    fig.text(0.01, 0.005, "[T]/[F]: the claim holds / fails on the census fit; "
             "MCSEs in the report's tables", fontsize=7, color="0.3")
    fig.tight_layout(rect=(0, 0.015, 1, 1))
    return fig


def claims_figure(diag: xr.Dataset, condition: str, claims: list[str] | None = None,
                  title: str = "") -> Figure:
    """Claim reproduction rate per design (evaluable or not), with the population truth."""
    designs = [str(d) for d in diag["design"].values]
    claims = claims or [str(c) for c in diag["claim"].values]
    sub = diag.sel(condition=condition, claim=claims)
    ny = len(claims)
    fig, ax = plt.subplots(figsize=(9, 1.4 + 0.24 * ny))
    y = np.arange(ny)[::-1]
    off = _offsets(len(designs), 0.55)
    for j, des in enumerate(designs):
        v = sub["claim_value"].sel(design=des, claim_measure="reproduction_rate_all").values
        m = sub["claim_mcse"].sel(design=des, claim_measure="reproduction_rate_all").values
        ax.errorbar(v, y + off[j], xerr=prop_err(v, m), fmt=MARKERS[j % 10],
                    color=COLORS[j % 10], ms=4, lw=1, label=des)
    truth = sub["claim_value"].isel(design=0).sel(claim_measure="truth_rate").values
    ax.scatter(truth, y, marker="|", s=160, color="k", zorder=5,
               label="holds in population (1) / not (0)")
    ax.set_yticks(y)
    ax.set_yticklabels(claims, fontsize=8)
    ax.set_xlim(-0.03, 1.03)
    ax.set_ylim(-0.7, ny - 0.3)
    ax.set_xlabel("share of replications in which the sample reproduces the claim")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    ax.set_title(title or f"Claim reproduction, condition {condition}", fontsize=11)
    fig.text(0.01, 0.005, "bars: +/- 1.96 Monte Carlo SE; a not-evaluable claim counts as "
             "not reproduced; no tick: not evaluable on the census", fontsize=7, color="0.3")
    fig.tight_layout(rect=(0, 0.015, 1, 1))
    return fig


Series = dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]


REF_COLORS = ("0.15", "0.5", "0.7")


def _series_plot(ax: Any, series: Series, logx: bool) -> None:
    """Lines with MC bars; series labelled '... (reference)' are grey and dashed."""
    j = k = 0
    for lab, (x, v, m) in series.items():
        order = np.argsort(x)
        if "(reference)" in lab:
            style = {"color": REF_COLORS[k % 3], "ls": "--", "marker": "x"}
            k += 1
        else:
            style = {"color": COLORS[j % 10], "ls": "-", "marker": MARKERS[j % 10]}
            j += 1
        ax.errorbar(x[order], v[order], yerr=prop_err(v[order], m[order]), ms=4, lw=1.2,
                    capsize=2, label=lab, **style)


def sweep_figure(
    panels: dict[str, Series], xlabel: str, ylabel: str, title: str,
    ref: float | None = None, ncols: int = 4,
) -> Figure:
    """Small multiples: one panel per key, lines per series, y in [0, 1] with MC bars.

    ``panels[name][series] = (x, values, mcses)``.
    """
    n = len(panels)
    ncols = min(ncols, n)
    nrows = int(np.ceil(n / ncols))
    legend_w = 2.4
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols + legend_w, 2.7 * nrows + 0.8),
                             sharex=True, sharey=True, squeeze=False)
    xs = np.concatenate([s[0] for p in panels.values() for s in p.values()]).astype(float)
    logx = bool(np.all(xs > 0) and xs.max() / max(xs.min(), 1e-12) >= 8)
    for ax, (name, series) in zip(axes.flat, panels.items(), strict=False):
        _series_plot(ax, series, logx)
        if ref is not None:
            ax.axhline(ref, color="k", lw=0.8, ls="--")
        ax.set_title(name, fontsize=8)
        ax.set_ylim(-0.03, 1.03)
        ax.grid(alpha=0.3)
    if logx:
        ax0 = axes.flat[0]
        ax0.set_xscale("log")
        ticks = np.unique(xs)
        ax0.set_xticks(ticks)
        ax0.set_xticklabels([f"{t:g}" for t in ticks], rotation=45)
        ax0.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    fig.supxlabel(xlabel, fontsize=9, y=0.03)
    for ax in axes[:, 0]:
        ax.set_ylabel(ylabel, fontsize=9)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper left",
               bbox_to_anchor=(1 - legend_w / fig.get_figwidth(), 0.92), fontsize=8,
               frameon=False)
    fig.suptitle(title, fontsize=11)
    fig.text(0.01, 0.005, "bars: +/- 1.96 Monte Carlo SE", fontsize=7, color="0.3")
    fig.tight_layout(rect=(0, 0.02, 1 - legend_w / fig.get_figwidth(), 0.96))
    return fig


def power_panels(diag: xr.Dataset, x: np.ndarray, cond_index: list[int], design: str,
                 variables=EXPERIENTIAL, items=T7_ITEMS) -> dict[str, Series]:
    """Power of each Table 7 item's coefficient, one panel per experiential variable."""
    out: dict[str, Series] = {}
    have = {str(t) for t in diag["model_term"].values}
    sub = diag.sel(design=design, basis="successes", measure="power")
    for var in variables:
        series = {}
        for it in items:
            mt = f"t7_{it}:{var}"
            if mt not in have:
                continue
            v = sub["value"].sel(model_term=mt).values[cond_index]
            m = sub["mcse"].sel(model_term=mt).values[cond_index]
            series[it] = (np.asarray(x, float), v, m)
        if series:
            out[var] = series
    return out
