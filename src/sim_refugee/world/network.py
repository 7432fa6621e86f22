"""A sparse social network among the refugees, for respondent-driven and snowball sampling.

Construction (a degree-corrected, layered Chung-Lu / stochastic-block model, written
here with numpy because no maintained Python library builds a degree-corrected
multi-attribute-homophily graph of 400,000 nodes in seconds; networkx's generators
are pure Python):

* each person gets a degree propensity theta = Gamma(shape, 1/shape) x exp(sum of
  ``degree_by`` coefficients x column), rescaled to mean 1; the expected degree is
  ``mean_degree`` x theta (heterogeneous degree);
* ties are split into layers: a share ``homophily[col]`` of each person's expected
  ties is formed with people sharing their value of ``col`` (site, province, gender,
  or any column), the rest at random across the population;
* in every layer a tie's two ends are drawn proportionally to theta (the second one
  within the first one's group for a homophily layer), so each layer contributes
  share x expected degree to every person; self-ties and repeated ties are dropped.
  Within a group of total propensity T_g the second end's probability is
  theta_i / T_g while the first end lands in g with probability T_g / T, so a
  person's expected ties are the same in every layer: homophily changes who is tied,
  not how many ties.

The result is a symmetric 0/1 ``scipy.sparse.csr_matrix``. All numbers are named
assumptions of ``NetworkParams`` (the paper has no network data).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from pydantic import Field, model_validator

from sim_refugee.errors import UserInputError, require_columns
from sim_refugee.validation import FrozenModel, numeric_column

#: Largest number of expected ties (mean_degree x N / 2) a network may have (~1.6 GB).
MAX_TIES = 50_000_000


class NetworkParams(FrozenModel):
    """mean_degree: mean expected number of ties. degree_shape: gamma shape of the
    degree propensity (smaller = heavier tail). degree_by: log-multipliers of degree
    propensity by population column. homophily: share of ties formed within the same
    value of each column (the shares sum to at most 1; the rest are random)."""

    mean_degree: float = Field(8.0, gt=0.0)
    degree_shape: float = Field(1.5, gt=0.0)
    degree_by: dict[str, float] = Field(
        default_factory=lambda: {"urban_china": 0.3, "church_tie": 0.3}
    )
    homophily: dict[str, float] = Field(
        default_factory=lambda: {"home_site": 0.4, "province": 0.2, "female": 0.1}
    )

    @model_validator(mode="after")
    def _shares(self) -> NetworkParams:
        if any(v < 0 for v in self.homophily.values()) or sum(self.homophily.values()) > 1:
            raise ValueError("homophily shares must be >= 0 and sum to at most 1")
        return self


@dataclass(frozen=True)
class Network:
    """adj: symmetric CSR adjacency (0/1, no self-ties); degree: ties per person."""

    adj: sp.csr_matrix
    degree: np.ndarray


def _stubs(members: np.ndarray, theta: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k tie ends among ``members``, each proportional to theta, in random order."""
    counts = rng.multinomial(k, theta / theta.sum())
    return rng.permutation(np.repeat(members, counts))


def _layer_edges(
    theta: np.ndarray, n_edges: int, groups: np.ndarray | None, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """n_edges ties with both ends proportional to theta (second end within the group).

    Ends are drawn as multinomial counts expanded and shuffled (faster than inverse-CDF
    look-ups for hundreds of thousands of people, and exactly proportional to theta).
    """
    everyone = np.arange(theta.size)
    a = _stubs(everyone, theta, n_edges, rng)
    if groups is None:
        return a, _stubs(everyone, theta, n_edges, rng)
    ga = groups[a]
    a = a[np.argsort(ga, kind="stable")]  # still random order within each group
    n_groups = int(groups.max()) + 1
    need = np.bincount(ga, minlength=n_groups)
    order = np.argsort(groups, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(groups, minlength=n_groups))])
    b = np.empty_like(a)
    pos = 0
    for g in np.flatnonzero(need):
        members = order[bounds[g] : bounds[g + 1]]
        b[pos : pos + need[g]] = _stubs(members, theta[members], int(need[g]), rng)
        pos += need[g]
    return a, b


def build_network(pop: pd.DataFrame, params: NetworkParams, rng: np.random.Generator) -> Network:
    """The social network of ``pop`` (pure function of its inputs)."""
    require_columns(pop, list(params.degree_by) + list(params.homophily), "population (network)")
    n = len(pop)
    half_stubs = params.mean_degree * n / 2.0
    if half_stubs > MAX_TIES:
        raise UserInputError(
            f"network.mean_degree = {params.mean_degree:g} gives {half_stubs:.3g} expected ties "
            f"for {n} people, more than the {MAX_TIES:,} a network may hold",
            key="network.mean_degree")
    log_mult = np.zeros(n)
    for col, b in params.degree_by.items():
        log_mult += b * numeric_column(pop, col, "population (network degree_by)")
    for col in params.homophily:
        if pop[col].isna().any():
            raise UserInputError(
                f"population (network homophily): column {col!r} has missing values", key=col)
    with np.errstate(over="ignore", invalid="ignore"):
        mult = np.exp(log_mult)
        theta = rng.gamma(params.degree_shape, 1.0 / params.degree_shape, size=n) * mult
        theta /= theta.mean()
    if not np.isfinite(theta).all():
        key = "network.degree_by" if not np.isfinite(mult).all() or mult.max() == 0 else (
            "network.degree_shape")
        raise UserInputError(
            f"{key}: degree propensities overflow or vanish (degree_by coefficients too large "
            "or degree_shape too small)", key=key)
    layers: list[tuple[float, np.ndarray | None]] = [
        (share, pd.factorize(pop[col])[0]) for col, share in params.homophily.items() if share > 0
    ]
    rest = 1.0 - sum(params.homophily.values())
    if rest > 0:
        layers.append((rest, None))
    heads, tails = [], []
    for share, groups in layers:
        a, b = _layer_edges(theta, int(rng.poisson(share * half_stubs)), groups, rng)
        keep = a != b
        heads.append(a[keep])
        tails.append(b[keep])
    a = np.concatenate(heads)
    b = np.concatenate(tails)
    rows = np.concatenate([a, b])
    cols = np.concatenate([b, a])
    adj = sp.csr_matrix((np.ones(rows.size, dtype=np.int8), (rows, cols)), shape=(n, n))
    adj.sum_duplicates()
    adj.data[:] = 1
    degree = np.diff(adj.indptr).astype(np.int64)
    return Network(adj, degree)
