"""The diagnosis in one streaming pass: blocks of replications in, the measures out.

``StreamDiagnosis`` keeps, per condition, only sufficient statistics of every measure:
counts, and (count, mean, M2) of each continuous quantity, merged block by block with
Chan, Golub & LeVeque's pairwise update (numerically as good as the two-pass formulas
of ``measures.term_measures``; the results agree to rounding, see the tests). Memory
is the size of the diagnosis (conditions x designs x terms), whatever the number of
replications. ``finalize`` applies the same formulas as ``measures.diagnose`` (Morris,
White & Crowther 2019) and returns a Dataset of the same shape, including the claims,
the paired design differences, the failure rates and every user-defined diagnosand of
``diagnosis.diagnosands``.

Written here rather than with dask because the paired differences and the claims need
all designs of a replication together (a block is one condition x population x range of
replications, every design) and the running moments are a few lines; dask would add a
graph per block without removing that logic.

Sources of blocks: ``results_blocks`` reads a collected results.nc slice by slice; the
engine feeds chunk files directly (``engine.stream_blocks``) so that the stopping rule
updates incrementally, round after round, without re-collecting.

The nonprobability diagnostics (``nonprob_mc``) need joint per-replication statistics
(correlations of predicted and true errors); their inputs, the ``nonprob.*`` scalars
(165 numbers per replication for the paper suite), are gathered and diagnosed at
the end: memory that grows with the replications, the one exception.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from sim_refugee.diagnosis import diagnosands as dg
from sim_refugee.diagnosis.measures import (
    ALPHA,
    BASES,
    CLAIM_MEASURES,
    PAIRED_MEASURES,
    SKIPPED,
    TERM_MEASURES,
    Z975,
    binary_indicators,
)


class Moments:
    """Running (count, mean, M2) along the last axis of masked blocks."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.n = np.zeros(shape)
        self.mean = np.zeros(shape)
        self.m2 = np.zeros(shape)

    def add(self, x: np.ndarray, m: np.ndarray) -> None:
        nb = m.sum(-1).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            mb = np.where(nb > 0, np.where(m, x, 0.0).sum(-1) / nb, 0.0)
            m2b = (np.where(m, x - mb[..., None], 0.0) ** 2).sum(-1)
            tot = self.n + nb
            delta = mb - self.mean
            self.mean = np.where(tot > 0, self.mean + delta * nb / np.where(tot > 0, tot, 1),
                                 0.0)
            self.m2 = self.m2 + m2b + np.where(
                tot > 0, delta**2 * self.n * nb / np.where(tot > 0, tot, 1), 0.0)
        self.n = tot

    @property
    def avg(self) -> np.ndarray:
        return np.where(self.n > 0, self.mean, np.nan)

    @property
    def var(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.n > 1, self.m2 / (self.n - 1), np.nan)


@dataclass
class Block:
    """One condition x population x range of replications, every design.

    Shapes: est/se/pval (D, T, B); theta (T,); rep_status (D, B); model_status (D, M, B);
    claims (D, K, B); claim_truth (K,); scalars (D, Q, B) (only if nonprob is kept)."""

    condition: int
    population: int
    est: np.ndarray
    se: np.ndarray
    pval: np.ndarray
    theta: np.ndarray
    rep_status: np.ndarray
    model_status: np.ndarray
    claims: np.ndarray | None = None
    claim_truth: np.ndarray | None = None
    scalars: np.ndarray | None = None
    scalar_truth: np.ndarray | None = None
    replications: np.ndarray | None = None


class _TermAcc:
    """Sufficient statistics of the term measures for one basis, shape (D, T)."""

    def __init__(self, shape: tuple[int, ...], n_custom: int) -> None:
        self.err, self.est, self.e2 = Moments(shape), Moments(shape), Moments(shape)
        self.se2 = Moments(shape)
        self.theta_sum = np.zeros(shape)
        self.cont_bad = np.zeros(shape, bool)
        self.cov = np.zeros(shape)
        self.mb = np.zeros(shape)
        self.rej = np.zeros(shape)
        self.ts = np.zeros(shape)
        self.mb_rej = np.zeros(shape)
        self.nu = np.zeros(shape)
        self.fail = np.zeros(shape)
        self.custom = [Moments(shape) for _ in range(n_custom)]

    def add(self, est, se, pval, theta, use, ok, basis, custom_q) -> None:  # noqa: ANN001
        finite = np.isfinite(est)
        if basis == "successes":
            m = use & ok & finite & np.isfinite(se)
        else:
            m = use & finite
            self.cont_bad |= np.any(use & ~finite, axis=-1)
        err = est - theta
        self.err.add(err, m)
        self.est.add(est, m)
        self.e2.add(err**2, m)
        self.theta_sum += np.where(m, theta, 0.0).sum(-1)
        se2 = np.where(np.isfinite(se), se**2, np.nan)
        self.se2.add(se2, m & np.isfinite(se2))
        mb, covered, reject, wrong = binary_indicators(
            est, se, pval, theta, err, use, ok, m, basis, ALPHA, Z975)
        self.cov += (covered & mb).sum(-1)
        self.mb += mb.sum(-1)
        self.rej += (reject & mb).sum(-1)
        self.ts += (wrong & mb & reject).sum(-1)
        self.mb_rej += (mb & reject).sum(-1)
        self.nu += use.sum(-1)
        self.fail += (use & ~(ok & finite)).sum(-1)
        r = dg.Replications(est, se, pval, theta, ok)
        for acc, q in zip(self.custom, custom_q, strict=True):
            acc.add(q, dg.basis_mask(r, use, q, basis))

    def finalize(self) -> tuple[np.ndarray, np.ndarray]:
        n = self.err.n
        with np.errstate(invalid="ignore", divide="ignore"):
            th = np.where(n > 0, self.theta_sum / n, np.nan)
            bias, var_e = self.err.avg, self.err.var
            mc_bias = np.sqrt(var_e / n)
            emp = np.sqrt(var_e)
            mc_emp = emp / np.sqrt(2 * (n - 1))
            mod = np.sqrt(self.se2.avg)
            var_se2, n_se = self.se2.var, self.se2.n
            mc_mod = np.sqrt(var_se2 / (4 * n_se * mod**2))
            ratio = mod / emp
            mc_ratio = ratio * np.sqrt(var_se2 / (4 * n_se * mod**4) + 1 / (2 * (n - 1)))
            mse = self.e2.avg
            mc_mse = np.sqrt(self.e2.var / n)
            rmse = np.sqrt(mse)
            mc_rmse = mc_mse / (2 * rmse)
            rel = np.where(th != 0, bias / th, np.nan)
            mc_rel = np.where(th != 0, mc_bias / np.abs(th), np.nan)
            mean_est = self.est.avg
            mc_mean = np.sqrt(self.est.var / n)

            def prop(k: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
                p = np.where(d > 0, k / d, np.nan)
                return p, np.sqrt(p * (1 - p) / d)

            cov, mc_cov = prop(self.cov, self.mb)
            pw, mc_pw = prop(self.rej, self.mb)
            ts, mc_ts = prop(self.ts, self.mb_rej)
            fail = np.where(self.nu > 0, self.fail / self.nu, np.nan)
            mc_fail = np.sqrt(fail * (1 - fail) / self.nu)
        cont_ok = ~self.cont_bad
        cont = [np.where(cont_ok, v, np.nan) for v in
                (mean_est, bias, rel, emp, mod, ratio, mse, rmse)]
        cont_mc = [np.where(cont_ok, v, np.nan) for v in
                   (mc_mean, mc_bias, mc_rel, mc_emp, mc_mod, mc_ratio, mc_mse, mc_rmse)]
        values = [n, th, *cont, cov, pw, ts, fail]
        mcses = [np.zeros_like(n), np.full_like(th, np.nan), *cont_mc, mc_cov, mc_pw, mc_ts,
                 mc_fail]
        for d, acc in zip(dg.custom(), self.custom, strict=True):
            v, mc = d.finalize(acc.n, acc.avg, acc.var)
            values.append(np.asarray(v, dtype=float))
            mcses.append(np.asarray(mc, dtype=float))
        return np.stack(values, -1), np.stack(mcses, -1)


@dataclass
class _CondAcc:
    terms: list[_TermAcc]
    fail_use: np.ndarray
    fail_bad: np.ndarray
    ran: np.ndarray
    ran_bad: np.ndarray
    cl_use: np.ndarray | None
    cl_ev: np.ndarray | None
    cl_hold: np.ndarray | None
    cl_agree: np.ndarray | None
    cl_agree_den: np.ndarray | None
    paired: list[list[Moments]]
    paired_n: np.ndarray
    truth: dict[int, np.ndarray] = field(default_factory=dict)


@dataclass
class Labels:
    """The coordinates of a run's results (what ``finalize`` labels the measures with)."""

    conditions: list[str]
    designs: list[str]
    model_terms: list[str]
    models: list[str]
    model_of_term: list[str]
    terms: list[str]
    claims: list[str]
    n_populations: int
    condition_label: list[str] | None = None
    n: list[int] | None = None
    attrs: dict[str, Any] = field(default_factory=dict)


class StreamDiagnosis:
    """Accumulate blocks (``add``), then ``finalize`` (any time, also between rounds)."""

    def __init__(self, labels: Labels, keep_nonprob: bool = True) -> None:
        self.lab = labels
        self.keep_nonprob = keep_nonprob
        self.cond: dict[int, _CondAcc] = {}
        self._idx = np.array([labels.models.index(m) for m in labels.model_of_term])
        self._nonprob: list[Block] = []
        self.n_custom = len(dg.custom())

    def _new(self) -> _CondAcc:
        D, T, M, K = (len(self.lab.designs), len(self.lab.model_terms), len(self.lab.models),
                      len(self.lab.claims))
        z = np.zeros
        has_cl = K > 0
        return _CondAcc(
            terms=[_TermAcc((D, T), self.n_custom) for _ in BASES],
            fail_use=z((D, M)), fail_bad=z((D, M)), ran=z(D), ran_bad=z(D),
            cl_use=z(D) if has_cl else None, cl_ev=z((D, K)) if has_cl else None,
            cl_hold=z((D, K)) if has_cl else None, cl_agree=z((D, K)) if has_cl else None,
            cl_agree_den=z((D, K)) if has_cl else None,
            paired=[[Moments((T,)) for _ in range(4)] for _ in range(D - 1)],
            paired_n=z((max(D - 1, 0), T)),
        )

    def add(self, b: Block) -> None:
        """Fold one block into the statistics of its condition."""
        acc = self.cond.setdefault(b.condition, self._new())
        idx = self._idx
        rs = b.rep_status
        ms = b.model_status[:, idx, :]  # (D, T, B)
        ok = (ms == "ok") & (rs[:, None, :] == "ok")
        use = (rs != "not_run")[:, None, :] & (ms != SKIPPED)
        use = np.broadcast_to(use, b.est.shape)
        theta = np.broadcast_to(b.theta[None, :, None], b.est.shape)
        r = dg.Replications(b.est, b.se, b.pval, theta, ok)
        custom_q = [np.asarray(d.per_rep(r), dtype=float) for d in dg.custom()]
        for basis, t in zip(BASES, acc.terms, strict=True):
            t.add(b.est, b.se, b.pval, theta, use, ok, basis, custom_q)
        # failures per model
        mst = b.model_status
        use_m = (rs != "not_run")[:, None, :] & (mst != SKIPPED)
        acc.fail_use += use_m.sum(-1)
        acc.fail_bad += (use_m & ((mst != "ok") | (rs[:, None, :] != "ok"))).sum(-1)
        ran = rs != "not_run"
        acc.ran += ran.sum(-1)
        acc.ran_bad += (ran & (rs != "ok")).sum(-1)
        # claims
        if acc.cl_use is not None and b.claims is not None:
            c = b.claims
            cu = ran[:, None, :]
            ev = cu & np.isfinite(c)
            holds = np.where(ev, c, 0.0) == 1
            tr = (b.claim_truth if b.claim_truth is not None
                  else np.full(c.shape[1], np.nan))
            acc.truth.setdefault(b.population, np.asarray(tr, dtype=float))
            trb = np.broadcast_to(tr[None, :, None], c.shape)
            acc.cl_use += ran.sum(-1)
            acc.cl_ev += ev.sum(-1)
            acc.cl_hold += (holds & ev).sum(-1)
            den = ev & np.isfinite(trb)
            acc.cl_agree_den += den.sum(-1)
            acc.cl_agree += (den & (c == trb)).sum(-1)
        # paired differences against design 0
        if len(self.lab.designs) > 1:
            good = use & ok & np.isfinite(b.est) & np.isfinite(b.se)
            err = b.est - theta
            with np.errstate(invalid="ignore"):
                cov = (np.abs(err) <= Z975 * b.se).astype(float)
                rej = (b.pval < ALPHA).astype(float)
            for j in range(1, len(self.lab.designs)):
                both = good[j] & good[0]
                acc.paired_n[j - 1] += both.sum(-1)
                for k, a in enumerate((err, err**2, cov, rej)):
                    acc.paired[j - 1][k].add(a[j] - a[0], both)
        if self.keep_nonprob and b.scalars is not None:
            self._nonprob.append(b)

    def finalize(self, conditions: list[int] | None = None) -> xr.Dataset:
        """The diagnosis Dataset (``measures.diagnose``'s layout) of the conditions seen."""
        lab = self.lab
        cis = sorted(self.cond) if conditions is None else conditions
        names = [*TERM_MEASURES, *(d.name for d in dg.custom())]
        vals, mcs = [], []
        for ci in cis:
            a = self.cond[ci]
            v_b, m_b = zip(*(t.finalize() for t in a.terms), strict=True)
            vals.append(np.stack(v_b, -1))
            mcs.append(np.stack(m_b, -1))
        dims = ("condition", "design", "model_term", "measure", "basis")
        conds = [lab.conditions[ci] for ci in cis]
        out = xr.Dataset(
            {"value": (dims, np.stack(vals)), "mcse": (dims, np.stack(mcs))},
            coords={"condition": conds, "design": lab.designs, "model_term": lab.model_terms,
                    "measure": names, "basis": list(BASES)},
        )
        out = out.assign_coords(model_of_term=("model_term", lab.model_of_term),
                                term=("model_term", lab.terms), **dg.name_coords(names))
        if lab.condition_label is not None:
            out = out.assign_coords(condition_label=("condition",
                                                     [lab.condition_label[c] for c in cis]))
        if lab.n is not None:
            out = out.assign_coords(n=("condition", [lab.n[c] for c in cis]))
        with np.errstate(invalid="ignore", divide="ignore"):
            fu = np.stack([self.cond[c].fail_use for c in cis])
            fr = np.stack([self.cond[c].fail_bad for c in cis]) / fu
            out["failure_rate"] = (("condition", "design", "model"), fr)
            out["failure_rate_mcse"] = (("condition", "design", "model"),
                                        np.sqrt(fr * (1 - fr) / fu))
            rr = (np.stack([self.cond[c].ran_bad for c in cis])
                  / np.stack([self.cond[c].ran for c in cis]))
        out = out.assign_coords(model=lab.models)
        out["replication_error_rate"] = (("condition", "design"), rr)
        if lab.claims and self.cond[cis[0]].cl_use is not None:
            out = out.merge(self._claims(cis))
        if len(lab.designs) > 1:
            out = out.merge(self._paired(cis))
        if self._nonprob:
            nonprob = self._nonprob_diagnosis(cis)
            if nonprob is not None:
                out = out.merge(nonprob)
        out.attrs = dict(lab.attrs)
        out.attrs["reference"] = "Morris, White & Crowther (2019), Stat Med 38:2074-2102"
        return out

    def _claims(self, cis: list[int]) -> xr.Dataset:
        vals, mcs = [], []
        P = self.lab.n_populations
        for ci in cis:
            a = self.cond[ci]
            use = np.broadcast_to(a.cl_use[:, None], a.cl_ev.shape)
            with np.errstate(invalid="ignore", divide="ignore"):
                def prop(k: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
                    p = np.where(d > 0, k / d, np.nan)
                    return p, np.sqrt(p * (1 - p) / d)

                rep, mc_rep = prop(a.cl_hold, a.cl_ev)
                rep_all, mc_all = prop(a.cl_hold, use)
                evr, mc_ev = prop(a.cl_ev, use)
                agree, mc_agree = prop(a.cl_agree, a.cl_agree_den)
                truths = np.stack([a.truth.get(p, np.full(a.cl_ev.shape[1], np.nan))
                                   for p in range(P)])
                fin = np.isfinite(truths)
                cnt = fin.sum(0)
                t_mean = np.where(cnt > 0, np.where(fin, truths, 0).sum(0) / cnt, np.nan)
                t_mean = np.broadcast_to(t_mean[None, :], rep.shape)
                mc_t = np.sqrt(t_mean * (1 - t_mean) / P)
            n = use.astype(float)
            vals.append(np.stack([n, t_mean, rep, rep_all, evr, agree], -1))
            mcs.append(np.stack([np.zeros_like(n), mc_t, mc_rep, mc_all, mc_ev, mc_agree], -1))
        dims = ("condition", "design", "claim", "claim_measure")
        return xr.Dataset(
            {"claim_value": (dims, np.stack(vals)), "claim_mcse": (dims, np.stack(mcs))},
            coords={"claim": self.lab.claims, "claim_measure": list(CLAIM_MEASURES)})

    def _paired(self, cis: list[int]) -> xr.Dataset:
        vals, mcs = [], []
        for ci in cis:
            a = self.cond[ci]
            rv, rm = [], []
            for j, moms in enumerate(a.paired):
                n = a.paired_n[j]
                row_v, row_m = [n], [np.zeros_like(n)]
                for mo in moms:
                    row_v.append(mo.avg)
                    with np.errstate(invalid="ignore", divide="ignore"):
                        row_m.append(np.sqrt(mo.var / n))
                rv.append(np.stack(row_v, -1))
                rm.append(np.stack(row_m, -1))
            vals.append(np.stack(rv))
            mcs.append(np.stack(rm))
        d = self.lab.designs
        dims = ("condition", "contrast", "model_term", "paired_measure")
        return xr.Dataset(
            {"paired_value": (dims, np.stack(vals)), "paired_mcse": (dims, np.stack(mcs))},
            coords={"contrast": [f"{x} - {d[0]}" for x in d[1:]],
                    "paired_measure": list(PAIRED_MEASURES)})

    def _nonprob_diagnosis(self, cis: list[int]) -> xr.Dataset | None:
        """``nonprob_mc.nonprob_diagnosis`` on the gathered nonprob scalars."""
        from sim_refugee.diagnosis.nonprob_mc import nonprob_diagnosis

        blocks = [b for b in self._nonprob if b.condition in cis]
        if not blocks or blocks[0].replications is None:
            return None
        names = self._scalar_names
        P = self.lab.n_populations
        R = 1 + max(int(b.replications.max()) for b in blocks if len(b.replications))
        D, Q = len(self.lab.designs), len(names)
        sc = np.full((len(cis), D, Q, P, R), np.nan)
        st = np.full((len(cis), D, P, R), "not_run", dtype=object)
        tr = np.full((len(cis), Q, P), np.nan)
        pos = {c: i for i, c in enumerate(cis)}
        for b in blocks:
            i = pos[b.condition]
            sc[i, :, :, b.population, b.replications] = np.moveaxis(b.scalars, -1, 0)
            st[i, :, b.population, b.replications] = b.rep_status.T
            if b.scalar_truth is not None:
                tr[i, :, b.population] = b.scalar_truth
        res = xr.Dataset(
            {"scalars": (("condition", "design", "scalar", "population", "replication"), sc),
             "rep_status": (("condition", "design", "population", "replication"),
                            st.astype(str)),
             "scalar_truth": (("condition", "scalar", "population"), tr)},
            coords={"condition": [self.lab.conditions[c] for c in cis],
                    "design": self.lab.designs, "scalar": names,
                    "population": np.arange(P), "replication": np.arange(R)})
        return nonprob_diagnosis(res)

    _scalar_names: list[str] = []


def labels_of(res: xr.Dataset) -> Labels:
    """``Labels`` of a (lazily opened) results Dataset."""
    def strs(name: str) -> list[str]:
        return [str(x) for x in res[name].values] if name in res.coords else []

    attrs = {k: res.attrs[k] for k in ("config_hash", "root_seed", "unit") if k in res.attrs}
    return Labels(
        conditions=strs("condition"), designs=strs("design"), model_terms=strs("model_term"),
        models=strs("model"), model_of_term=strs("model_of_term"), terms=strs("term"),
        claims=strs("claim") if "claims" in res else [], n_populations=res.sizes["population"],
        condition_label=strs("condition_label") or None,
        n=[int(x) for x in res["n"].values] if "n" in res.coords else None, attrs=attrs)


def nonprob_names(res: xr.Dataset) -> list[str]:
    from sim_refugee.diagnosis.nonprob_mc import PREFIX

    if "scalar" not in res.coords:
        return []
    return [str(s) for s in res["scalar"].values if str(s).startswith(PREFIX + ".")]


#: String variables of results.nc. xarray decodes variable-length strings eagerly when it
#: opens a file (the whole variable, as fixed-width unicode: rep_message alone could be
#: gigabytes at a million replications), so the streaming reader opens the file without
#: them and reads their slices with h5netcdf.
STRING_VARS = ("model_status", "rep_status", "rep_message", "seed_key", "estimand_status",
               "estimand_message")


def _strings(res: xr.Dataset, h5: Any, name: str, sel: dict[str, Any],
             order: tuple[str, ...]) -> np.ndarray:
    """A slice of string variable ``name`` as str, from ``res`` or the h5netcdf file."""
    if h5 is None:
        dims = [d for d in order if not isinstance(sel.get(d), int)]
        return res[name].isel(sel).transpose(*dims).values.astype(str)
    key = tuple(sel.get(d, slice(None)) for d in order)
    a = np.asarray(h5.variables[name][key], dtype=object)
    return np.vectorize(lambda x: x.decode() if isinstance(x, bytes) else str(x),
                        otypes=[str])(a) if a.size else a.astype(str)


def results_blocks(res: xr.Dataset, block: int = 1000, claims: Any = None,
                   strings: Any = None) -> Iterator[Block]:
    """Blocks of a results Dataset (lazily opened: one slice in memory at a time).

    ``claims``: an evaluator with ``sample(est, model_status, scalars, rep_status)`` and
    ``truth(est, model_status, scalars, stored, stored_ids)`` (``engine.claims_eval.
    ClaimEvaluator``): the claims are evaluated here from the stored estimates with the
    current claim registry instead of read from the file. ``strings``: the open
    h5netcdf file to read the string variables from (``res`` opened without them)."""
    stats = [str(s) for s in res["statistic"].values]
    stored_ids = [str(c) for c in res["claim"].values] if "claim" in res.coords else []
    ie, is_, ip = (stats.index(k) for k in ("estimate", "se", "pvalue"))
    npn = nonprob_names(res)
    has_truth = "estimand" in res
    R = res.sizes["replication"]
    for ci in range(res.sizes["condition"]):
        for p in range(res.sizes["population"]):
            if has_truth:
                e = res["estimand"].isel(condition=ci, population=p).values
                theta = e[:, ie]
                ctruth = (res["claim_truth"].isel(condition=ci, population=p).values
                          if "claim_truth" in res else None)
                if claims is not None:
                    ctruth = claims.truth(
                        e, _strings(res, strings, "estimand_status",
                                    {"condition": ci, "population": p},
                                    ("condition", "population", "model")),
                        res["scalar_truth"].isel(condition=ci, population=p).values,
                        ctruth, stored_ids)
                struth = (res["scalar_truth"].isel(condition=ci, population=p)
                          .sel(scalar=npn).values if npn and "scalar_truth" in res else None)
            else:
                theta = np.full(res.sizes["model_term"], np.nan)
                ctruth = struth = None
            for a in range(0, R, block):
                sl = {"condition": ci, "population": p, "replication": slice(a, a + block)}
                est = res["estimates"].isel(sl).transpose(
                    "design", "model_term", "statistic", "replication").values
                rs = _strings(res, strings, "rep_status", sl,
                              ("condition", "population", "design", "replication"))
                ms = _strings(res, strings, "model_status", sl,
                              ("condition", "population", "design", "replication", "model"))
                ms = np.moveaxis(ms, -1, 1)  # (design, model, replication)
                if claims is not None:
                    sc = res["scalars"].isel(sl).transpose("design", "replication",
                                                           "scalar").values
                    cl = np.stack([claims.sample(np.moveaxis(est[d], -1, 0), ms[d].T, sc[d],
                                                 rs[d]).T for d in range(est.shape[0])])
                elif "claims" in res:
                    cl = res["claims"].isel(sl).transpose("design", "claim", "replication").values
                else:
                    cl = None
                yield Block(
                    condition=ci, population=p,
                    est=est[:, :, ie], se=est[:, :, is_], pval=est[:, :, ip], theta=theta,
                    rep_status=rs, model_status=ms, claims=cl,
                    claim_truth=ctruth,
                    scalars=(res["scalars"].isel(sl).sel(scalar=npn).transpose(
                        "design", "scalar", "replication").values if npn else None),
                    scalar_truth=struth,
                    replications=np.arange(a, min(R, a + block)),
                )


def diagnose_results(path: str | Path | xr.Dataset, block: int = 1000,
                     claims: Any = None) -> xr.Dataset:
    """The diagnosis of a results.nc (or Dataset) in one streaming pass over blocks of
    ``block`` replications; equals ``measures.diagnose`` up to rounding. ``claims``: see
    ``results_blocks`` (claims evaluated now, from the stored estimates)."""
    from sim_refugee.io import NETCDF_ENGINE

    own = not isinstance(path, xr.Dataset)
    strings = None
    if own and NETCDF_ENGINE == "h5netcdf":
        import h5netcdf

        strings = h5netcdf.File(path, "r", decode_vlen_strings=True)
        res = xr.open_dataset(path, engine=NETCDF_ENGINE, drop_variables=list(STRING_VARS))
    else:
        res = xr.open_dataset(path, engine=NETCDF_ENGINE) if own else path
    try:
        lab = labels_of(res)
        if claims is not None and claims.fn is not None:
            lab.claims = list(claims.ids)
        sd = StreamDiagnosis(lab)
        sd._scalar_names = nonprob_names(res)
        for b in results_blocks(res, block, claims if claims is not None and claims.fn
                                else None, strings):
            sd.add(b)
        return sd.finalize()
    finally:
        if own:
            res.close()
        if strings is not None:
            strings.close()
