"""Respondent-driven sampling on the population's social network, with RDS-II and SS weights.

Process: ``n_seeds`` seeds drawn at random (optionally from a restricted pool, e.g. one
province); each respondent, in order of entry, receives ``coupons`` coupons; each
coupon is handed (with probability ``recruit_prob``) to a different random contact not
yet in the sample (no re-recruitment), who accepts with probability
expit(logit(1 - refusal_prob) + sum of ``accept_by`` coefficients x column), so
acceptance may depend on traits (differential recruitment). When all chains die
before n, a fresh seed is added. Respondents report their degree with error
(log-normal factor, optional heaping to multiples of 5 above 10).

Weights (functions, usable on any RDS sample):
* ``rds2_weights``: Volz-Heckathorn (2008), weight proportional to 1 / reported degree;
* ``ss_weights``: Gile (2011) successive sampling, which needs a population-size guess.
The sample's ``weight`` is the one chosen by ``estimator`` (RDS-II by default), scaled
to sum to the population size (guess); ``incl_prob`` is its inverse.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import Field
from scipy.optimize import brentq
from scipy.special import expit, logit

from sim_refugee.designs.artefacts import assemble_sample
from sim_refugee.designs.base import BaseDesign, DesignParams
from sim_refugee.errors import UserInputError, require_columns
from sim_refugee.validation import numeric_column
from sim_refugee.world.network import Network, NetworkParams, build_network


class RDSParams(DesignParams):
    """See the module docstring. seed_pool: {column: value} restricting where seeds come
    from (empty = anyone with a tie); seed_by_degree: seeds drawn proportionally to degree (the
    random walk's equilibrium, so no burn-in is needed) instead of uniformly.
    population_size_guess: N for the SS estimator and
    for scaling weights (None = the true population size)."""

    network: NetworkParams = NetworkParams()
    n_seeds: int = Field(10, ge=1)
    seed_pool: dict[str, int | str] = Field(default_factory=dict)
    seed_by_degree: bool = False
    coupons: int = Field(3, ge=1)
    recruit_prob: float = Field(0.8, gt=0.0, le=1.0)
    refusal_prob: float = Field(0.3, ge=0.0, lt=1.0)
    accept_by: dict[str, float] = Field(default_factory=dict)
    degree_error_sd: float = Field(0.3, ge=0.0)
    degree_heaping: bool = False
    estimator: Literal["rds2", "ss"] = "rds2"
    population_size_guess: float | None = Field(None, gt=0.0)
    n_interviewers: int = Field(48, ge=1)


def rds2_weights(degree: np.ndarray, total: float | None = None) -> np.ndarray:
    """Volz-Heckathorn RDS-II weights: proportional to 1/degree, summing to ``total`` (or n)."""
    d = np.asarray(degree, dtype=float)
    if (d <= 0).any() or not np.isfinite(d).all():
        raise UserInputError("degrees must be finite and > 0 for RDS-II weights", key="degree")
    w = 1.0 / d
    return w * ((d.size if total is None else total) / w.sum())


def ss_weights(
    degree: np.ndarray, population_size: float, tol: float = 1e-10, max_iter: int = 500
) -> np.ndarray:
    """Gile's successive-sampling weights for a sample with these (reported) degrees.

    The population is taken to hold ``population_size`` units whose degree
    distribution is unknown; sampling is modelled as successive sampling proportional
    to degree without replacement. Fixed point (Gile 2011): from a degree
    distribution estimate N_k, inclusion probabilities pi_k for each distinct degree;
    then N_k = n_k / pi_k, rescaled to the population size; repeat. The inclusion
    probability uses the order-sampling approximation pi_k = 1 - exp(-d_k t), t solving
    sum_k N_k pi_k = n (Rosen 1997), instead of Gile's Monte Carlo, so the weights are
    deterministic and fast. Returns N_k / n_k for each respondent (sum = population_size).
    """
    d = np.asarray(degree, dtype=float)
    n = d.size
    if (d <= 0).any() or not np.isfinite(d).all():
        raise UserInputError("degrees must be finite and > 0 for SS weights", key="degree")
    if population_size <= n:
        raise UserInputError(
            f"population_size_guess {population_size:g} must exceed the sample size {n}",
            key="population_size_guess",
        )
    levels, inv, counts = np.unique(d, return_inverse=True, return_counts=True)
    big_n = counts / levels
    big_n *= population_size / big_n.sum()
    for _ in range(max_iter):
        def excess(t: float, nk: np.ndarray = big_n) -> float:
            return float(np.sum(nk * -np.expm1(-levels * t)) - n)

        hi = 1.0 / levels.min()
        while excess(hi) < 0:
            hi *= 2.0
        t = brentq(excess, 0.0, hi, xtol=1e-14)
        pi = -np.expm1(-levels * t)
        new = np.maximum(counts / pi, counts)
        new *= population_size / new.sum()
        if np.max(np.abs(new - big_n)) < tol * population_size:
            big_n = new
            break
        big_n = new
    return (big_n / counts)[inv]


def report_degree(
    degree: np.ndarray, sd: float, heaping: bool, rng: np.random.Generator
) -> np.ndarray:
    """Reported degree: true x exp(N(0, sd)), rounded, at least 1; heaped to 5s above 10."""
    rep = np.asarray(degree, dtype=float) * np.exp(rng.normal(0.0, sd, size=len(degree)))
    rep = np.maximum(np.rint(rep), 1.0)
    if heaping:
        rep = np.where(rep > 10, 5.0 * np.rint(rep / 5.0), rep)
    return rep


def _accept_prob(pop: pd.DataFrame, params: RDSParams) -> np.ndarray:
    require_columns(pop, list(params.accept_by), "population (rds accept_by)")
    eta = np.full(len(pop), logit(1.0 - params.refusal_prob) if params.refusal_prob > 0 else 30.0)
    for col, b in params.accept_by.items():
        eta += b * numeric_column(pop, col, "population (rds accept_by)")
    return expit(eta)


def _seed_pool(pop: pd.DataFrame, net: Network, pool: dict) -> np.ndarray:
    require_columns(pop, list(pool), "population (rds seed_pool)")
    ok = net.degree > 0
    for col, val in pool.items():
        ok &= (pop[col] == val).to_numpy()
    cand = np.flatnonzero(ok)
    if cand.size == 0:
        raise UserInputError(f"seed_pool {pool} matches no one with a tie", key="seed_pool")
    return cand


def recruit_chains(
    net: Network, n: int, accept: np.ndarray, seed_pool: np.ndarray, n_seeds: int,
    coupons: int, recruit_prob: float, rng: np.random.Generator, limit_coupons: bool = True,
    referral_prob: float = 1.0, seed_by_degree: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Chain-referral recruitment without re-recruitment: (rows, recruiter row, wave).

    With ``limit_coupons`` each respondent passes up to ``coupons`` coupons (each with
    probability ``recruit_prob``) to random unsampled contacts, who accept with
    ``accept``. Without it (snowball) every unsampled contact is named and reached
    with probability ``referral_prob`` x accept. Fresh seeds are drawn from
    ``seed_pool`` (uniformly, or proportionally to degree) whenever the chains die out.
    """
    indptr, indices = net.adj.indptr, net.adj.indices
    in_sample = np.zeros(net.degree.size, dtype=bool)
    rows: list[int] = []
    recruiter: list[int] = []
    wave: list[int] = []
    if seed_by_degree:
        # successive sampling proportional to degree: order by Exp(1) / degree
        pool = seed_pool[np.argsort(rng.exponential(size=seed_pool.size) / net.degree[seed_pool])]
    else:
        pool = rng.permutation(seed_pool)
    pool_pos = 0
    head = 0

    def add_seed() -> bool:
        nonlocal pool_pos
        while pool_pos < pool.size and in_sample[pool[pool_pos]]:
            pool_pos += 1
        if pool_pos >= pool.size:
            return False
        s = int(pool[pool_pos])
        in_sample[s] = True
        rows.append(s)
        recruiter.append(-1)
        wave.append(0)
        return True

    for _ in range(min(n_seeds, n)):
        if not add_seed():
            break
    while len(rows) < n:
        if head >= len(rows):
            if not add_seed():
                break
            continue
        r = rows[head]
        head += 1
        nbrs = indices[indptr[r] : indptr[r + 1]]
        nbrs = nbrs[~in_sample[nbrs]]
        if nbrs.size == 0:
            continue
        if limit_coupons:
            n_pass = min(int(rng.binomial(coupons, recruit_prob)), nbrs.size)
            targets = rng.choice(nbrs, size=n_pass, replace=False)
            yes = targets[rng.random(n_pass) < accept[targets]]
        else:
            yes = nbrs[rng.random(nbrs.size) < referral_prob * accept[nbrs]]
        yes = yes[: n - len(rows)]
        in_sample[yes] = True
        rows.extend(yes.tolist())
        recruiter.extend([r] * yes.size)
        wave.extend([wave[head - 1] + 1] * yes.size)
    return np.asarray(rows, np.int64), np.asarray(recruiter, np.int64), np.asarray(wave, np.int64)


def chain_sample(
    pop: pd.DataFrame, net: Network, rows: np.ndarray, rec: np.ndarray, wave: np.ndarray,
    design: str, params, rng: np.random.Generator, extra: dict | None = None, **weights,
) -> pd.DataFrame:
    """The sample of a chain-referral design (RDS, snowball): the recruited rows with
    degree, recruiter's person_id (-1 for seeds) and wave (artefacts and weighting
    follow in ``BaseDesign.draw``). ``weights`` passes ``incl_prob``/``weight`` where
    the design defines them."""
    pid = pop["person_id"].to_numpy() if "person_id" in pop else np.arange(len(pop))
    return assemble_sample(
        pop, rows, design=design, n_interviewers=params.n_interviewers, rng=rng,
        extra={
            "degree": net.degree[rows],
            **(extra or {}),
            "recruiter_id": np.where(rec >= 0, pid[np.maximum(rec, 0)], -1),
            "wave": wave,
        },
        **weights,
    )


class RDSDesign(BaseDesign):
    """Respondent-driven sampling."""

    name: ClassVar[str] = "rds"
    Params: ClassVar[type[DesignParams]] = RDSParams

    def prepare(self, pop: pd.DataFrame, params: RDSParams, rng: np.random.Generator) -> Network:
        """The population's social network."""
        return build_network(pop, params.network, rng)

    def select(
        self, pop: pd.DataFrame, state: Network, n: int, params: RDSParams,
        rng: np.random.Generator,
    ) -> pd.DataFrame:
        """n recruits (fewer only if every seed is used up) with RDS-II or SS weights."""
        net = state
        rows, rec, wave = recruit_chains(
            net, n, _accept_prob(pop, params), _seed_pool(pop, net, params.seed_pool),
            params.n_seeds, params.coupons, params.recruit_prob, rng,
            seed_by_degree=params.seed_by_degree,
        )
        rep = report_degree(net.degree[rows], params.degree_error_sd, params.degree_heaping, rng)
        big_n = float(params.population_size_guess or len(pop))
        if params.estimator == "rds2":
            w = rds2_weights(rep, big_n)
        else:
            w = ss_weights(rep, big_n)
        return chain_sample(pop, net, rows, rec, wave, self.name, params, rng,
                            extra={"reported_degree": rep}, incl_prob=1.0 / w, weight=w)


DESIGN = RDSDesign()
