"""Run a recovery study: keyed replications of draw -> estimate, serial or through joblib.

Replication ``r`` of ``recovery(..., seed=s)`` draws its data from
``child_rng(seed_sequence(s), "recovery", r)``, which for an int seed is
``sim_refugee.seeds.rng_for(s, "recovery", r)``: it depends on (s, r) only, so the
results are bit-identical whatever ``n_jobs``, the first 400 replications of a
4,000-replication run are those of the 400-replication run, and two estimators run
with the same seed see the same data (common random numbers).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from sim_refugee.seeds import child_rng
from sim_refugee.testing.result import (
    REP_KEY,
    Recovery,
    as_terms,
    default_terms,
    names_values,
    root_sequence,
)

_Vec = tuple[list[str] | None, np.ndarray]
_Rep = tuple[_Vec, _Vec | None, dict[str, float], str | None]


class _RepError(Exception):
    """A replication's output that cannot be used (counted as a failure)."""


def _unpack(out: Any) -> tuple[_Vec, _Vec | None, dict[str, float]]:
    if not isinstance(out, tuple) or len(out) not in (2, 3):
        raise _RepError("estimate must return (estimate, se) or (estimate, se, extra), "
                        f"got {type(out).__name__}")
    est = names_values(out[0], "estimate")
    se = None if out[1] is None else names_values(out[1], "se")
    extra: dict[str, float] = {}
    if len(out) == 3 and out[2] is not None:
        if not isinstance(out[2], Mapping):
            raise _RepError(f"extra must be a mapping of names to numbers, got {type(out[2]).__name__}")
        extra = {str(k): float(v) for k, v in out[2].items()}
    return est, se, extra


def _one(draw: Callable[[np.random.Generator], Any], estimate: Callable[[Any], Any],
         root: np.random.SeedSequence, r: int) -> _Rep:
    """Replication r: never raises; an exception becomes the error message."""
    empty: _Vec = (None, np.empty(0))
    try:
        est, se, extra = _unpack(estimate(draw(child_rng(root, REP_KEY, r))))
    except Exception as exc:  # counted, not raised: that is the contract
        return empty, None, {}, f"{type(exc).__name__}: {exc}"
    return est, se, extra, None


def _align(vec: _Vec, terms: list[str], what: str) -> np.ndarray:
    names, v = vec
    if names is None:
        if v.size != len(terms):
            raise _RepError(f"{what} has {v.size} values, expected {len(terms)}")
        return v
    s = dict(zip(names, v, strict=True))
    return np.array([s.get(t, np.nan) for t in terms])  # a missing term fails alone


def _terms(outs: list[_Rep], truth: Any) -> list[str]:
    """Term names: the truth's if named, else the first estimate's, else positional."""
    names, v = names_values(truth, "truth")
    if names is not None:
        return names
    for est, _, _, err in outs:
        if err is None and est[0] is not None:
            return est[0]
    sizes = [est[1].size for est, _, _, err in outs if err is None]
    return default_terms(sizes[0] if sizes and v.size == 1 else v.size)


def recovery(
    draw: Callable[[np.random.Generator], Any],
    estimate: Callable[[Any], Any],
    truth: Any,
    reps: int,
    seed: int | np.random.SeedSequence,
    n_jobs: int = 1,
    alpha: float = 0.05,
    *,
    null: Any = 0.0,
) -> Recovery:
    """Run ``reps`` keyed replications of ``estimate(draw(rng))`` against ``truth``.

    ``draw(rng) -> data``; ``estimate(data) -> (estimate, se)`` or ``(estimate, se,
    extra)``, where estimate and se are scalars, 1-d arrays or Series (named terms; the
    truth may be a Series or mapping naming them too), se may be None, and extra is a
    mapping of named scalars kept in ``Recovery.extra``. A replication that raises or
    returns a non-finite estimate or SE is a failure: counted, not raised (a named term
    missing from one replication's output fails there alone). ``n_jobs > 1``
    runs through joblib (loky); the result does not depend on it. ``alpha`` is the level
    of the coverage intervals and of the Wald test of ``null`` behind the rejection rate.
    """
    if isinstance(reps, (bool, np.bool_)) or not isinstance(reps, (int, np.integer)) or reps < 1:
        raise ValueError(f"reps must be a positive integer, got {reps!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    root = root_sequence(seed)
    if n_jobs == 1:
        outs = [_one(draw, estimate, root, r) for r in range(int(reps))]
    else:
        outs = Parallel(n_jobs=n_jobs)(
            delayed(_one)(draw, estimate, root, r) for r in range(int(reps)))
    return _assemble(outs, truth, seed, alpha, null)


def _assemble(outs: list[_Rep], truth: Any, seed: Any, alpha: float, null: Any) -> Recovery:
    terms = _terms(outs, truth)
    truth_s = as_terms(truth, terms, "truth")
    k, n = len(terms), len(outs)
    est = np.full((n, k), np.nan)
    se = np.full((n, k), np.nan)
    has_se = any(o[1] is not None for o in outs if o[3] is None)
    errors: dict[int, str] = {}
    extras: list[dict[str, float]] = []
    unknown: set[str] = set()
    for r, (e, s, extra, err) in enumerate(outs):
        extras.append(extra)
        if err is not None:
            errors[r] = err
            continue
        try:
            if e[0] is not None:
                unknown.update(set(e[0]) - set(terms))
            est[r] = _align(e, terms, "estimate")
            if has_se:
                if s is None:
                    raise _RepError("se is None here but not in other replications")
                se[r] = _align(s, terms, "se")
        except _RepError as exc:
            est[r], se[r] = np.nan, np.nan
            errors[r] = f"{type(exc).__name__}: {exc}"
    if unknown:
        raise ValueError(f"estimate returned terms without a truth: {sorted(unknown)}; "
                         "give the truth for them or leave them out of the estimate")
    idx = pd.RangeIndex(n, name="replication")
    extra_df = pd.DataFrame(extras, index=idx) if any(extras) else None
    return Recovery(
        estimates=pd.DataFrame(est, index=idx, columns=terms),
        ses=pd.DataFrame(se, index=idx, columns=terms) if has_se else None,
        truth=truth_s, seed=seed, alpha=alpha, null=null, errors=errors, extra=extra_df)


def from_results(
    res: Any, design: str, *, condition: str | int = 0, population: int = 0,
    alpha: float = 0.05,
) -> Recovery:
    """One (condition, design, population) of a collected engine run as a Recovery.

    ``res``: ``sim_refugee.engine.open_results(out)``. The truth is the census fit (the
    estimand); a term whose model was not "ok" in a replication is a failure there;
    models skipped by choice are left out, as are replications not run. ``condition``: a
    condition key or its position.
    """
    from sim_refugee.diagnosis.measures import _term_inputs

    x = _term_inputs(res)
    conds = [str(c) for c in res["condition"].values]
    ci = conds.index(condition) if isinstance(condition, str) else int(condition)
    di = [str(d) for d in res["design"].values].index(design)
    n_rep = res.sizes["replication"]
    cols = slice(population * n_rep, (population + 1) * n_rep)

    def pick(a: np.ndarray) -> np.ndarray:
        return np.broadcast_to(a, x["est"].shape)[ci, di, :, cols]

    use, ok = pick(x["use"]), pick(x["ok"])
    keep_t = use.any(axis=1)
    keep_r = use[keep_t].any(axis=0)
    terms = [str(t) for t in res["model_term"].values[keep_t]]
    good = (ok & use)[keep_t][:, keep_r]
    est = np.where(good, pick(x["est"])[keep_t][:, keep_r], np.nan).T
    se = np.where(good, pick(x["se"])[keep_t][:, keep_r], np.nan).T
    truth = pd.Series(pick(x["theta"])[keep_t, 0], index=terms)
    root = res.attrs.get("root_seed")
    seed = (f"engine root_seed={root}, population {population}, samples keyed "
            f"('sample', {population}, r)")
    idx = pd.Index(np.flatnonzero(keep_r), name="replication")
    return Recovery(pd.DataFrame(est, index=idx, columns=terms),
                    pd.DataFrame(se, index=idx, columns=terms), truth, seed=seed, alpha=alpha)
