"""The diagnosand registry: a term measure is declared once and appears everywhere.

A ``Diagnosand`` has a name, its Markdown column name, its name in the report, and
(for a user-defined one) how it is estimated: a per-replication quantity ``per_rep`` of
the replication's estimate, SE, p-value, truth and fit status, and ``finalize``, which
turns the count, mean and variance of that quantity over the counted replications into
(value, MCSE) with an analytic formula. The default is the mean with MCSE sd / sqrt(n)
(any bias-, MSE- or proportion-type measure). Because only (n, mean, M2) are kept, every
diagnosand is computed in the same streaming pass as the built-in ones.

``diagnose`` (in memory), the streaming diagnosis (``diagnosis.stream``), the CSV (one
row per measure), the Markdown tables (``in_markdown``) and the report's detail tables
(``in_report``) all read this registry; the names travel with ``diagnostics.nc``
(coordinates ``measure_md_name``, ``measure_report_name``, ``measure_in_markdown``,
``measure_in_report``), so a report made later, in another process, shows them too.

The built-in measures (Morris, White & Crowther 2019; ``diagnosis.measures``) are
registered here with their names; their estimates and MCSEs stay in ``measures``.

Example (a measure DeclareDesign users know: the probability that |error| < 0.1)::

    register(Diagnosand("within_0.1", "P(|err|<0.1)", "share within 0.1 of the truth",
                        per_rep=lambda r: (np.abs(r.est - r.theta) < 0.1).astype(float)))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sim_refugee.diagnosis.measures import TERM_MEASURES


@dataclass(frozen=True)
class Replications:
    """Per-replication inputs of a term (last axis: replications)."""

    est: np.ndarray
    se: np.ndarray
    pval: np.ndarray
    theta: np.ndarray
    ok: np.ndarray  # the fit succeeded


def mean_mcse(n: np.ndarray, mean: np.ndarray, var: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Value = mean of the quantity, MCSE = sd / sqrt(n) (the default ``finalize``)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, mean, np.nan), np.sqrt(var / n)


@dataclass(frozen=True)
class Diagnosand:
    """A term measure: names, and for user-defined ones the estimate and its MCSE."""

    name: str
    md_name: str
    report_name: str
    per_rep: Callable[[Replications], np.ndarray] | None = None
    finalize: Callable[[np.ndarray, np.ndarray, np.ndarray],
                       tuple[np.ndarray, np.ndarray]] = mean_mcse
    in_markdown: bool = True
    in_report: bool = True
    description: str = ""

    @property
    def builtin(self) -> bool:
        return self.per_rep is None


_BUILTIN = {
    "n_sim": ("n_sim", "replications", True, False),
    "estimand": ("estimand", "estimand", True, True),
    "mean_estimate": ("mean_estimate", "mean estimate", False, False),
    "bias": ("bias", "bias", True, True),
    "rel_bias": ("rel_bias", "relative bias", True, False),
    "emp_se": ("emp_se", "emp_se", True, True),
    "mod_se": ("mod_se", "model SE", False, False),
    "se_ratio": ("se_ratio", "se_ratio", True, True),
    "mse": ("mse", "MSE", False, False),
    "rmse": ("rmse", "rmse", True, True),
    "coverage": ("coverage", "coverage", True, True),
    "power": ("power", "power", True, True),
    "type_s": ("type_s", "type-S rate", True, False),
    "failure_rate": ("failure_rate", "failure rate", True, False),
}
assert tuple(_BUILTIN) == TERM_MEASURES

REGISTRY: dict[str, Diagnosand] = {
    k: Diagnosand(k, md, rep, in_markdown=inm, in_report=inr)
    for k, (md, rep, inm, inr) in _BUILTIN.items()
}


def register(d: Diagnosand) -> Diagnosand:
    """Add a user-defined diagnosand (its name must be new)."""
    if d.name in REGISTRY:
        raise ValueError(f"diagnosand {d.name!r} is already registered")
    if d.per_rep is None:
        raise ValueError(f"diagnosand {d.name!r} needs per_rep")
    REGISTRY[d.name] = d
    return d


def unregister(name: str) -> None:
    """Remove a user-defined diagnosand (built-ins stay)."""
    if name in TERM_MEASURES:
        raise ValueError(f"{name!r} is built in")
    REGISTRY.pop(name, None)


def custom() -> list[Diagnosand]:
    """The user-defined diagnosands, in registration order."""
    return [d for d in REGISTRY.values() if not d.builtin]


def basis_mask(r: Replications, use: np.ndarray, x: np.ndarray, basis: str) -> np.ndarray:
    """Replications a user-defined diagnosand counts: like the built-in continuous
    measures, successful fits ("successes") or every run replication ("all"); both
    only where the quantity is finite."""
    m = use & np.isfinite(x)
    return m & r.ok if basis == "successes" else m


def name_coords(names: list[str]) -> dict[str, tuple[str, list]]:
    """Coordinates along ``measure`` that carry the registry's names into the outputs."""
    ds = [REGISTRY.get(n) or Diagnosand(n, n, n) for n in names]
    return {
        "measure_md_name": ("measure", [d.md_name for d in ds]),
        "measure_report_name": ("measure", [d.report_name for d in ds]),
        "measure_in_markdown": ("measure", [bool(d.in_markdown) for d in ds]),
        "measure_in_report": ("measure", [bool(d.in_report) for d in ds]),
    }


def custom_measures(x: dict[str, np.ndarray], use: np.ndarray, bases: tuple[str, ...]
                    ) -> tuple[list[str], np.ndarray, np.ndarray] | None:
    """(names, values, MCSEs) of the user-defined diagnosands on in-memory inputs
    (``measures._term_inputs``); arrays (..., diagnosand, basis). None if there are none."""
    ds = custom()
    if not ds:
        return None
    r = Replications(x["est"], x["se"], x["pval"], x["theta"], x["ok"])
    vals, mcs = [], []
    for d in ds:
        q = np.asarray(d.per_rep(r), dtype=float)
        v_b, m_b = [], []
        for b in bases:
            m = basis_mask(r, use, q, b)
            n = m.sum(-1).astype(float)
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = np.where(m, q, 0.0).sum(-1) / n
                dev = np.where(m, q - mean[..., None], 0.0)
                var = np.where(n > 1, (dev**2).sum(-1) / (n - 1), np.nan)
            v, mc = d.finalize(n, mean, var)
            v_b.append(v)
            m_b.append(mc)
        vals.append(np.stack(v_b, -1))
        mcs.append(np.stack(m_b, -1))
    return [d.name for d in ds], np.stack(vals, -2), np.stack(mcs, -2)
