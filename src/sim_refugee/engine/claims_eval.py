"""Claims evaluated from stored estimates (at collect time), not frozen in the chunks.

A unit may define ``claim_ids()`` (its current claims) and ``claims_from_arrays(labels,
est, model_status, scalars, truth)`` returning one row of 1.0 / 0.0 / NaN per record, or
None when it cannot evaluate from the stored arrays (then the stored values are used,
reindexed to the current claim ids: a claim the worker did not evaluate is NaN). The
worker's own claim values, kept in the chunks, serve as a check.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr


def _reindexed(stored: np.ndarray, stored_ids: list[str], ids: list[str]) -> np.ndarray:
    pos = {c: i for i, c in enumerate(stored_ids)}
    out = np.full((*stored.shape[:-1], len(ids)), np.nan)
    for j, c in enumerate(ids):
        if c in pos:
            out[..., j] = stored[..., pos[c]]
    return out


def stored_claims(unit: Any, ds: xr.Dataset, lab: dict[str, list[str]],
                  rep_status: np.ndarray | None, model_status: np.ndarray | None,
                  scalars: np.ndarray | None, truth: bool = False) -> tuple[np.ndarray, int]:
    """Claims (current ids ``lab['claim']``) of one chunk, or of a census fit with
    ``truth``; and the number of values that disagree with the worker's (both known)."""
    ids = lab["claim"]
    stored_name = "claim_truth" if truth else "claims"
    stored_ids = [str(c) for c in ds["claim"].values] if "claim" in ds.coords else []
    stored = (np.asarray(ds[stored_name].values, dtype=float) if stored_name in ds
              else np.full((len(stored_ids),), np.nan))
    worker = _reindexed(stored, stored_ids, ids)
    fn = getattr(unit, "claims_from_arrays", None)
    new = None
    if fn is not None:
        if truth:
            est = ds["estimand"].values[None]
            ms = np.asarray(ds["estimand_status"].values, dtype=str)[None]
            sc = np.asarray(ds["scalar_truth"].values, dtype=float)[None]
        else:
            est = ds["estimates"].transpose("replication", "model_term", "statistic").values
            ms, sc = model_status, scalars
        new = fn(lab, est, ms, sc, truth=truth)
    if new is None:
        return worker, 0
    new = np.asarray(new, dtype=float)
    if truth:
        new = new[0]
    elif rep_status is not None:  # a failed or never-run replication evaluates nothing
        new[np.asarray(rep_status) != "ok"] = np.nan
    both = np.isfinite(new) & np.isfinite(worker)
    return new, int((both & (new != worker)).sum())


class ClaimEvaluator:
    """The current claims of a unit, evaluated on stored arrays (for the diagnosis:
    ``diagnosis.stream.diagnose_results(..., claims=ClaimEvaluator(...))``)."""

    def __init__(self, unit_name: str, lab: dict[str, list[str]]) -> None:
        from sim_refugee.engine.units import get_unit

        self.unit = get_unit(unit_name)
        ids = getattr(self.unit, "claim_ids", None)
        self.ids: list[str] = [str(c) for c in ids()] if ids else []
        self.lab = {**lab, "claim": self.ids}
        self.fn = getattr(self.unit, "claims_from_arrays", None)

    def sample(self, est: np.ndarray, model_status: np.ndarray, scalars: np.ndarray,
               rep_status: np.ndarray) -> np.ndarray | None:
        """(B, K) claims of B replications (est (B, T, S), model_status (B, M), scalars
        (B, Q)); NaN where the replication did not succeed. None if the unit cannot."""
        if self.fn is None:
            return None
        out = self.fn(self.lab, est, model_status, scalars, truth=False)
        if out is None:
            return None
        out = np.asarray(out, dtype=float)
        out[np.asarray(rep_status) != "ok"] = np.nan
        return out

    def truth(self, est: np.ndarray, model_status: np.ndarray, scalars: np.ndarray,
              stored: np.ndarray | None, stored_ids: list[str]) -> np.ndarray:
        """(K,) claims of the census fit; the stored values where the unit cannot
        re-evaluate them (a claim unknown to the stored run: NaN)."""
        new = None
        if self.fn is not None:
            new = self.fn(self.lab, est[None], model_status[None], scalars[None], truth=True)
        if new is not None:
            return np.asarray(new, dtype=float)[0]
        if stored is None:
            return np.full(len(self.ids), np.nan)
        return _reindexed(np.asarray(stored, dtype=float), stored_ids, self.ids)
