"""The real unit: world -> design -> the paper's whole analysis -> claims (Contract 6).

One replication draws a sample with ``designs.get_design(name).draw`` from the
population ``world.build_population(WorldConfig, seed)`` and runs
``suite.run_suite`` on it; the claims are ``claims.evaluate_claims`` of that result.
The estimand is ``suite.census_fit`` of the same population, with its claims as the
truth in the population. Shapes follow ``suite.suite_layout()`` and ``CLAIM_IDS``.
"""

from __future__ import annotations

import time
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from sim_refugee.engine.units import OK, Layout, Record
from sim_refugee.errors import UserInputError
from sim_refugee.validation import StrictModel


class SuiteParams(StrictModel):
    """[unit] table of the paper-suite unit: how the suite is run on each sample.

    weights: "none" (the paper's unweighted fits) or "design" (the sample's ``weight``
    column, pseudo-likelihood with a sandwich); cluster: column for cluster-robust SEs
    (none, "site" or "interviewer"); snp_order: Hermite order of Table 7 (paper: 3);
    include_variants: also fit the footnote variants (t7ne_*, t7yr_*);
    truth_n_ref: the census fit's claims (the truth in the population) are judged as if
    each fit had this many observations (default 1,346, the paper's n). At the
    population's own size every nonzero coefficient is "significant", so claims of the
    form "not significant" would be false by construction; 0 judges at the census N;
    snp_starts / census_snp_starts: starts of each SNP fit in a sample (1 = sneop's single
    start, as the paper ran it) and in the census fit (the estimand: best of 3);
    nonprob: also record, per replication, the nonprobability-sample diagnostics of
    ``diagnosis.nonprob_sample`` (the true bias of each outcome's mean, Meng's rho,
    MUB/MUBP at phi 0, 0.5, 1) as ``nonprob.*`` scalars (off: those scalars are NaN).
    """

    weights: Literal["none", "design"] = "none"
    cluster: Literal["none", "site", "interviewer"] = "none"
    snp_order: int = Field(default=3, ge=0, le=6)
    include_variants: bool = True
    truth_n_ref: int = Field(default=1346, ge=0)
    snp_starts: int = Field(default=1, ge=1, le=7)
    census_snp_starts: int = Field(default=3, ge=1, le=7)
    nonprob: bool = True


def _statuses(est: pd.DataFrame, models: tuple[str, ...]) -> np.ndarray:
    first = est.groupby("model", sort=False)["status"].first()
    return np.array([str(first.get(m, "failed")) for m in models], dtype=object)


@lru_cache(maxsize=4)
def _layout_labels(layout: Layout) -> tuple[np.ndarray, np.ndarray]:
    return (np.array([m for m, _ in layout.model_terms], dtype=object),
            np.array([t for _, t in layout.model_terms], dtype=object))


@lru_cache(maxsize=4)
def _model_starts(layout: Layout) -> tuple[int, ...]:
    """Row of each model's first term (the model's status is on every one of its rows)."""
    first: dict[str, int] = {}
    for i, (m, _) in enumerate(layout.model_terms):
        first.setdefault(m, i)
    return tuple(first[m] for m in layout.models)


def _suite_pairs() -> tuple:
    from sim_refugee.suite import suite_layout

    return suite_layout().model_terms


def _in_layout_order(est: pd.DataFrame, layout: Layout) -> bool:
    models, terms = _layout_labels(layout)
    return bool(np.array_equal(est["model"].to_numpy(dtype=object), models)
                and np.array_equal(est["term"].to_numpy(dtype=object), terms))


class PaperSuiteUnit:
    """See module docstring."""

    name = "paper_suite"

    def validate_world(self, world: dict[str, Any]) -> BaseModel:
        from sim_refugee.world import WorldConfig

        return WorldConfig.model_validate(world)

    def validate_params(self, params: dict[str, Any]) -> SuiteParams:
        return SuiteParams.model_validate(params)

    def _design(self, name: str, key: str = "design") -> Any:
        from sim_refugee.designs import design_names, get_design

        if name not in design_names():
            raise UserInputError(
                f"config key {key!r}: unknown design {name!r}; known designs: "
                f"{', '.join(design_names())}",
                key=key,
            )
        try:
            return get_design(name)
        except ModuleNotFoundError as exc:
            raise UserInputError(
                f"config key {key!r}: design {name!r} is not available in this build ({exc})",
                key=key,
            ) from exc

    def check_design(self, name: str, key: str) -> None:
        self._design(name, key)

    def validate_design_params(self, name: str, params: dict[str, Any]) -> BaseModel:
        return self._design(name).Params.model_validate(params)

    def population_size(self, world: Any) -> int:
        return int(world.size)

    def layout(self, world: Any, params: Any) -> Layout:
        from sim_refugee.claims import CLAIM_IDS
        from sim_refugee.diagnosis.nonprob_sample import nonprob_scalar_names
        from sim_refugee.suite import suite_layout

        lay = suite_layout()
        return Layout(
            model_terms=tuple(lay.model_terms), claims=tuple(CLAIM_IDS),
            scalars=tuple(lay.scalars) + nonprob_scalar_names(),
        )

    def claim_ids(self) -> tuple[str, ...]:
        from sim_refugee.claims import CLAIM_IDS

        return tuple(CLAIM_IDS)

    def claims_from_arrays(self, lab: dict[str, list[str]], est: np.ndarray,
                           model_status: np.ndarray, scalars: np.ndarray, truth: bool = False
                           ) -> np.ndarray | None:
        """Every current claim on stored sample records (``engine.claims_eval``): the
        predicates read estimates, p-values, model statuses and scalars, all stored. The
        census fit's claims are judged at ``truth_n_ref`` observations, which needs each
        fit's N and the tests' statistics (not stored): None, the stored truth is used."""
        if truth:
            return None
        from types import SimpleNamespace

        from sim_refugee.claims import evaluate_claims

        ids = lab["claim"]
        mt = [x.split(":", 1) for x in lab["model_term"]]
        models = np.array([m for m, _ in mt], dtype=object)
        terms = np.array([t for _, t in mt], dtype=object)
        pos = {m: i for i, m in enumerate(lab["model"])}
        idx = np.array([pos[m] for m in models])
        sc_index = pd.Index(lab["scalar"])
        ie, ip = lab["statistic"].index("estimate"), lab["statistic"].index("pvalue")
        out = np.full((len(est), len(ids)), np.nan)
        for r in range(len(est)):
            frame = pd.DataFrame({"model": models, "term": terms, "estimate": est[r, :, ie],
                                  "pvalue": est[r, :, ip],
                                  "status": np.asarray(model_status[r], dtype=object)[idx]})
            res = SimpleNamespace(estimates=frame, scalars=pd.Series(scalars[r], index=sc_index))
            cl = evaluate_claims(res).reindex(ids)
            out[r] = cl.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        return out

    def build_population(self, world: Any, params: Any, seq: np.random.SeedSequence) -> Any:
        from sim_refugee.world import build_population

        return build_population(world, seq)

    def prepare(self, pop: Any, design: str, dparams: Any, rng: np.random.Generator) -> Any:
        return self._design(design).prepare(pop, dparams, rng)

    def _record(self, res: Any, layout: Layout, n_ref: int | None = None) -> Record:
        from sim_refugee.claims import evaluate_claims

        t0 = time.perf_counter()
        est = res.estimates
        pairs = layout.model_terms
        in_order = (getattr(res, "meta", {}).get("layout_order") is True
                    and layout.model_terms == _suite_pairs())
        if len(est) == len(pairs) and (in_order or _in_layout_order(est, layout)):
            # run_suite's frames are in layout order already: plain arrays, no reindexing
            arr = est[["estimate", "se", "pvalue"]].to_numpy(dtype=float)
            st = est["status"].to_numpy(dtype=object)
            status = np.array([str(st[i]) for i in _model_starts(layout)], dtype=object)
        else:
            est = est.set_index(["model", "term"]).reindex(list(pairs))
            arr = est[["estimate", "se", "pvalue"]].to_numpy(dtype=float)
            status = _statuses(res.estimates, layout.models)
        claims = evaluate_claims(res, n_ref=n_ref).reindex(list(layout.claims))
        cl = claims.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        if tuple(res.scalars.index) == layout.scalars:
            sc = res.scalars.to_numpy(dtype=float)
        else:
            sc = pd.to_numeric(res.scalars.reindex(list(layout.scalars)), errors="coerce"
                               ).to_numpy(dtype=float)
        msgs = getattr(res, "messages", pd.Series(dtype=object))
        bad = [f"{m}: {msgs.get(m, '')}" for m, s in zip(layout.models, status, strict=True)
               if s != OK and s != "skipped"]
        rec = Record(arr, status, cl, sc, message="; ".join(bad)[:2000])
        rec.timings = {"claims": time.perf_counter() - t0}
        return rec

    def replicate(
        self, pop: Any, state: Any, design: str, n: int, dparams: Any, params: SuiteParams,
        rng: np.random.Generator, rep: int,
    ) -> Record:
        from sim_refugee.suite import run_suite

        t0 = time.perf_counter()
        sample = self._design(design).draw(pop, state, n, dparams, rng)
        t1 = time.perf_counter()
        res = run_suite(
            sample,
            weights=None if params.weights == "none" else "weight",
            cluster=None if params.cluster == "none" else params.cluster,
            snp_order=params.snp_order,
            include_variants=params.include_variants,
            snp_starts=params.snp_starts,
        )
        t2 = time.perf_counter()
        layout = self.layout(None, params)
        rec = self._record(res, layout)
        rec.timings = {"sample": t1 - t0, "fit": t2 - t1, **rec.timings}
        if params.nonprob:  # additive: fills the nonprob.* scalars (NaN otherwise)
            from sim_refugee.diagnosis.nonprob_sample import sample_diagnostics

            t3 = time.perf_counter()
            try:
                _put_nonprob(rec, layout, sample_diagnostics(sample, pop))
            except Exception as exc:  # a diagnostic's failure never voids the suite's fits
                note = f"nonprob: {type(exc).__name__}: {exc}"
                rec.message = f"{rec.message}; {note}"[:2000] if rec.message else note[:2000]
            rec.timings["nonprob"] = time.perf_counter() - t3
        return rec

    def calibrate_world(self, world: dict[str, Any], seed: int, settings: Any) -> dict[str, Any]:
        """Re-solve a world's table effects (an ensemble world): ``theta`` (the solved
        assumptions), the cells its calibration population hits, and whether that
        passes ``settings.min_hit_share`` (``ensemble.calibrate``)."""
        import time as _time

        from sim_refugee.calibration.solve import solve_tables
        from sim_refugee.targets import tables_solution
        from sim_refugee.world import WorldConfig

        t0 = _time.perf_counter()
        cfg = WorldConfig.model_validate({**world, "size": settings.size})
        sol = solve_tables(cfg, seed=seed, m=settings.m, plim_iter=settings.plim_iter,
                           sample_iter=settings.sample_iter, sample_reps=settings.sample_reps,
                           correction_iter=settings.correction_iter, dest_rounds=4,
                           start=tables_solution()["values"], n_jobs=1)
        hits, cells = int(sol.cells["hit"].sum()), len(sol.cells)
        return {"theta": sol.theta, "cells_hit": hits, "cells": cells,
                "passed": hits >= settings.min_hit_share * cells,
                "seconds": round(_time.perf_counter() - t0, 1)}

    def estimand(self, pop: Any, world: Any, params: SuiteParams) -> Record:
        from sim_refugee.suite import census_fit

        res = census_fit(pop, snp_order=params.snp_order, include_variants=params.include_variants,
                         snp_starts=params.census_snp_starts)
        n_ref = params.truth_n_ref or None
        layout = self.layout(world, params)
        rec = self._record(res, layout, n_ref=n_ref)
        if params.nonprob:  # the population means: the truth of the nonprob.* means
            from sim_refugee.diagnosis.nonprob_sample import population_values

            _put_nonprob(rec, layout, population_values(pop))
        return rec


def _put_nonprob(rec: Record, layout: Layout, values: np.ndarray) -> None:
    """Write the nonprob.* values into the record's scalars (the layout's last names)."""
    from sim_refugee.diagnosis.nonprob_sample import nonprob_scalar_names

    names = nonprob_scalar_names()
    start = layout.scalars.index(names[0])
    sc = np.array(rec.scalars, dtype=float)  # a copy: to_numpy views may be read-only
    sc[start:start + len(names)] = values
    rec.scalars = sc


UNIT = PaperSuiteUnit()
