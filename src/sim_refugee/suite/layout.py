"""The fixed shape of a suite result (``suite_layout``) and the result itself
(``SuiteResult``, Contract 5)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

from sim_refugee.suite.specs import MODEL_SPECS
from sim_refugee.suite.tables import BY_ITEMS, TABLE_ITEMS, by_key, scalar_names

STATUSES = ("ok", "not_converged", "singular_hessian", "non_psd_cov", "failed", "skipped")

# The sample's size in interview rows and in distinct persons: duplicate interviews
# (designs.artefacts) inflate the first but not the second, the effective N.
SAMPLE_SCALARS: tuple[str, ...] = ("sample.rows", "sample.persons")


@dataclass(frozen=True)
class SuiteLayout:
    """The fixed shape of every ``SuiteResult`` (same for every sample).

    ``model_terms``: (model, term) pairs in estimates-row order; ``models``: model names;
    ``scalars``: scalar names in order; ``tests``: (table, item) pairs of the gender tests.
    """

    model_terms: tuple[tuple[str, str], ...]
    models: tuple[str, ...]
    scalars: tuple[str, ...]
    tests: tuple[tuple[str, str], ...]

    @property
    def index(self) -> pd.MultiIndex:
        return pd.MultiIndex.from_tuples(self.model_terms, names=["model", "term"])


def _fit_scalar_names() -> list[str]:
    """Per model: its log-likelihood and that of its regressor-free model (LR chi-square
    and pseudo R-squared are derived from the pair)."""
    models = [s.name for s in MODEL_SPECS]
    return [*SAMPLE_SCALARS, *(f"fit.{m}.llf" for m in models),
            *(f"fit.{m}.llnull" for m in models)]


@lru_cache(maxsize=1)
def suite_layout() -> SuiteLayout:
    """The fixed list of (model, term) rows, models, scalar names and test keys."""
    pairs = tuple((s.name, t) for s in MODEL_SPECS for t in s.terms)
    return SuiteLayout(
        model_terms=pairs,
        models=tuple(s.name for s in MODEL_SPECS),
        scalars=tuple(scalar_names() + _fit_scalar_names()),
        tests=tuple((ti.table, ti.item) for ti in TABLE_ITEMS)
        + tuple((next(t.table for t in TABLE_ITEMS if t.item == item), by_key(item, by))
                for item, by in BY_ITEMS),
    )


@lru_cache(maxsize=1)
def layout_arrays() -> dict:
    """The layout's label columns as ready pandas string arrays (built once: every
    estimates frame reuses them) and each model's row count."""
    lay = suite_layout()
    return {
        "model": pd.array(np.asarray([m for m, _ in lay.model_terms], dtype=object), dtype="str"),
        "term": pd.array(np.asarray([t for _, t in lay.model_terms], dtype=object), dtype="str"),
        "n_terms": np.array([len(s.terms) for s in MODEL_SPECS]),
        "scalar_pos": {n: i for i, n in enumerate(lay.scalars)},
    }


@dataclass
class SuiteResult:
    """The suite on one sample (Contract 5). ``messages``: status message per model;
    ``timings``: seconds per stage; ``meta``: how it was run."""

    estimates: pd.DataFrame
    tables: pd.DataFrame
    tests: pd.DataFrame
    scalars: pd.Series
    timings: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    messages: pd.Series = field(default_factory=lambda: pd.Series(dtype=object))
    meta: dict = field(default_factory=dict)

    def coef(self, model: str) -> pd.DataFrame:
        """The rows of one model, indexed by term."""
        return self.estimates[self.estimates["model"] == model].set_index("term")
