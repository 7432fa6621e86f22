"""The nonprobability-sample diagnostics of one sample against its population.

For each outcome of ``OUTCOMES`` (the paper's quantities a survey would estimate as a
mean or a proportion) and one sample, ``sample_diagnostics`` returns the values named
``nonprob_scalar_names()`` (``nonprob.<outcome>.<stat>``, stats ``STATS``):

* ``mean``, ``sd``, ``n``: the sample mean and SD (divisor n - 1) over the answered
  cases and their number (the census record holds the population's, SD divisor N). Item
  nonresponse is on by default in every design: each outcome uses the interviews that
  answered it (an analyst's available-case mean);
* ``bias``: the true error of that mean, mean - Ybar_N (the population mean);
* ``rho_ry``, ``meng_error``, ``n_eff``: Meng's data defect correlation with R_i = the
  number of answered interviews of person i (so a duplicate interview counts twice, as
  it does in the mean), the selection error rho D_O sigma_Y it implies, and the
  effective sample size (``nonprob.data_defect``). meng_error equals ``bias`` up to
  rounding unless an artefact changed recorded answers (memorised answers, interviewer
  effects, redrawn duplicates, avgpsych averaged over fewer items): the difference is
  then the measurement part of the error;
* ``rho_xy``, ``mub0``, ``mub05``, ``mub1``: the proxy correlation and MUB(phi) =
  SMUB(phi) s_y for phi = 0, 0.5, 1 in Y units (``nonprob.smub``), against the
  benchmark of the population means of the auxiliaries ``AUXILIARY``;
* ``rho_xu``, ``mubp0``, ``mubp05``, ``mubp1``: the biserial correlation and MUBP(phi)
  for the binary outcomes (``nonprob.mubp``; NaN for continuous ones), against the
  population means and covariance of the auxiliaries.

The auxiliary benchmark is what a census would give: sex, age, education, occupation
and province of origin (``AUXILIARY``). The population's own moments (``Benchmark``)
are computed once per population object and cached (weakly: a population that is
freed takes its benchmark with it).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from sim_refugee.diagnosis.nonprob import PHIS, data_defect, independent_columns, mubp, smub
from sim_refugee.errors import require_columns


@dataclass(frozen=True)
class Outcome:
    """A quantity a survey estimates as a mean: ``column`` (>= ``agree_at`` when given:
    the agree share of a 1..4 item), binary or continuous, and why it is in the set."""

    name: str
    column: str
    kind: Literal["binary", "continuous"]
    agree_at: int | None = None
    label: str = ""


#: The documented outcome set: the distress measures of Tables 2-3 and 7, employment
#: (Table 9), the US destination preference (Table 9), the five experiences of Table 7
#: and years in China (a selection channel of the paper design).
OUTCOMES: tuple[Outcome, ...] = (
    Outcome("anxious_agree", "anxious", "binary", 3, "share usually anxious (anxious >= 3)"),
    Outcome("hope_agree", "hope", "binary", 3, "share hopeful (hope >= 3)"),
    Outcome("avgpsych", "avgpsych", "continuous", None, "mean of the seven distress items"),
    Outcome("job", "job", "binary", None, "share employed in China"),
    Outcome("prefer_us", "prefer_us", "binary", None, "share preferring the United States"),
    Outcome("foodaid", "foodaid", "binary", None, "share who received food aid"),
    Outcome("death", "death", "binary", None, "share who witnessed deaths from hunger"),
    Outcome("camp", "camp", "binary", None, "share held in a labour camp"),
    Outcome("arrest", "arrest", "binary", None, "share arrested"),
    Outcome("trafficking", "trafficking", "binary", None, "share trafficked"),
    Outcome("years_in_china", "years_in_china", "continuous", None, "mean years in China"),
)
OUTCOME_NAMES: tuple[str, ...] = tuple(o.name for o in OUTCOMES)

#: The auxiliary variables Z (census-type demographics) and their reference levels:
#: female, age in decades, education (elementary omitted), occupation (worker omitted),
#: province of origin (north_hamgyong omitted).
AUXILIARY: tuple[str, ...] = (
    "female", "age_decades", "secondary", "postsecondary", "farmer", "trader", "student",
    "other_job", "province=south_hamgyong", "province=ryanggang", "province=pyongyang",
    "province=other",
)
_AUX_COLUMNS: tuple[str, ...] = tuple(dict.fromkeys(a.split("=")[0] for a in AUXILIARY))

_PHI_TAGS = tuple(f"{p:g}".replace(".", "") for p in PHIS)  # "0", "05", "1"
STATS: tuple[str, ...] = (
    "mean", "sd", "n", "bias", "rho_ry", "meng_error", "n_eff", "rho_xy",
    *(f"mub{t}" for t in _PHI_TAGS), "rho_xu", *(f"mubp{t}" for t in _PHI_TAGS),
)
PREFIX = "nonprob"
#: samples with fewer answered cases than this get NaN diagnostics for the outcome
MIN_ANSWERS = 20


def nonprob_scalar_names() -> tuple[str, ...]:
    """``nonprob.<outcome>.<stat>`` for every outcome and stat, in a fixed order."""
    return tuple(f"{PREFIX}.{o}.{s}" for o in OUTCOME_NAMES for s in STATS)


def outcome_values(frame: pd.DataFrame, outcome: Outcome) -> np.ndarray:
    """The outcome per row as float (NaN where unanswered)."""
    x = pd.to_numeric(frame[outcome.column], errors="coerce").to_numpy(dtype=float)
    if outcome.agree_at is not None:
        with np.errstate(invalid="ignore"):
            x = np.where(np.isnan(x), np.nan, (x >= outcome.agree_at).astype(float))
    return x


def auxiliary_matrix(frame: pd.DataFrame) -> np.ndarray:
    """Z: one column per ``AUXILIARY`` entry (a ``col=level`` entry is a dummy)."""
    require_columns(frame, list(_AUX_COLUMNS), "frame (nonprob auxiliaries)")
    cols = []
    for a in AUXILIARY:
        if "=" in a:
            col, level = a.split("=")
            cols.append((frame[col].astype(str).to_numpy() == level).astype(float))
        else:
            cols.append(pd.to_numeric(frame[a], errors="coerce").to_numpy(dtype=float))
    return np.column_stack(cols)


@dataclass(frozen=True)
class Benchmark:
    """What the diagnostics need of the population: its size, the row of each
    person_id, the auxiliaries' means and covariance (divisor N), each outcome's values."""

    n_pop: int
    positions: pd.Index
    zbar: np.ndarray
    zcov: np.ndarray
    y: dict[str, np.ndarray]

    def ybar(self, outcome: str) -> float:
        return float(self.y[outcome].mean())


def population_benchmark(pop: pd.DataFrame) -> Benchmark:
    """The population's benchmark (no missing values in a population)."""
    require_columns(pop, ["person_id", *_AUX_COLUMNS, *(o.column for o in OUTCOMES)],
                    "population (nonprob diagnostics)")
    z = auxiliary_matrix(pop)
    zbar = z.mean(axis=0)
    zc = z - zbar
    return Benchmark(
        n_pop=len(pop),
        positions=pd.Index(pop["person_id"].to_numpy()),
        zbar=zbar,
        zcov=zc.T @ zc / len(pop),
        y={o.name: outcome_values(pop, o) for o in OUTCOMES},
    )


_CACHE: dict[int, tuple[weakref.ref, Benchmark]] = {}


def benchmark_for(pop: pd.DataFrame) -> Benchmark:
    """``population_benchmark(pop)``, computed once per population object."""
    key = id(pop)
    hit = _CACHE.get(key)
    if hit is not None and hit[0]() is pop:
        return hit[1]
    bench = population_benchmark(pop)
    _CACHE[key] = (weakref.ref(pop, lambda _r, k=key: _CACHE.pop(k, None)), bench)
    return bench


def _one(outcome: Outcome, y_s: np.ndarray, z_s: np.ndarray, pos: np.ndarray,
         bench: Benchmark) -> dict[str, float]:
    ans = np.isfinite(y_s)
    n = int(ans.sum())
    out: dict[str, float] = {"n": float(n)}
    if n < MIN_ANSWERS:
        return out
    y, z = y_s[ans], z_s[ans]
    y_pop = bench.y[outcome.name]
    out["mean"] = float(y.mean())
    out["sd"] = float(y.std(ddof=1))
    out["bias"] = out["mean"] - float(y_pop.mean())
    r = np.bincount(pos[ans], minlength=bench.n_pop).astype(float)
    try:
        dd = data_defect(r, y_pop)
        out.update(rho_ry=dd.rho, meng_error=dd.error, n_eff=dd.n_eff)
    except ValueError:  # everybody answered (a census), or Y constant: undefined
        pass
    # the kept auxiliaries, shared by the OLS and the probit proxy (non-finite z: each
    # diagnostic refuses it itself)
    cols = independent_columns(z) if np.isfinite(z).all() else None
    try:
        sm = smub(y, z, bench.zbar, PHIS, cols=cols)
        out["rho_xy"] = sm.rho
        out.update({f"mub{t}": float(v) for t, v in zip(_PHI_TAGS, sm.mub, strict=True)})
    except (ValueError, np.linalg.LinAlgError):
        pass
    if outcome.kind == "binary":
        try:
            mp = mubp(y, z, bench.zbar, bench.zcov, bench.n_pop, PHIS, cols=cols)
            out["rho_xu"] = mp.rho
            out.update({f"mubp{t}": float(v) for t, v in zip(_PHI_TAGS, mp.mubp, strict=True)})
        except (ValueError, np.linalg.LinAlgError):
            pass
    return out


def sample_diagnostics(sample: pd.DataFrame, pop: pd.DataFrame,
                       bench: Benchmark | None = None) -> np.ndarray:
    """Every ``nonprob_scalar_names()`` value of ``sample`` (rows of ``pop``, Contract 1).

    Numerically undefined diagnostics (too few answers, an outcome constant in the
    sample, a failed probit) are NaN; a sample whose person_ids are not in the
    population is bad input (ValueError).
    """
    bench = bench or benchmark_for(pop)
    require_columns(sample, ["person_id", *_AUX_COLUMNS, *(o.column for o in OUTCOMES)],
                    "sample (nonprob diagnostics)")
    pos = bench.positions.get_indexer(sample["person_id"].to_numpy())
    if (pos < 0).any():
        raise ValueError("sample has person_ids that are not in the population")
    z_s = auxiliary_matrix(sample)
    rows = []
    for o in OUTCOMES:
        vals = _one(o, outcome_values(sample, o), z_s, pos, bench)
        rows.append([vals.get(s, np.nan) for s in STATS])
    return np.asarray(rows, dtype=float).ravel()


def population_values(pop: pd.DataFrame) -> np.ndarray:
    """The census record of the same names: ``mean`` = the population mean (the truth),
    ``sd`` its population SD (divisor N), ``n`` = N, every other stat NaN."""
    bench = benchmark_for(pop)
    rows = []
    for o in OUTCOMES:
        row = np.full(len(STATS), np.nan)
        row[STATS.index("mean")] = bench.ybar(o.name)
        row[STATS.index("sd")] = float(bench.y[o.name].std())
        row[STATS.index("n")] = bench.n_pop
        rows.append(row)
    return np.asarray(rows, dtype=float).ravel()
