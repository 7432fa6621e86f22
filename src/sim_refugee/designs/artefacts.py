"""Survey artefacts applied at the end of every design's draw, and the sample assembly.

The paper reports four field artefacts (section I, footnotes 2-3): repeat interviews
(identities were recorded only in Shenyang), answers memorised by interviewers rather
than written, item nonresponse (valid N varies by item), and 48 interviewers whose
manner may shift answers. Each is an explicit, named parameter of ``ArtefactParams``;
every one is OFF by default, so a design without an ``artefacts`` table returns the
sampled rows untouched. All rates and effect sizes are assumptions (the paper gives no
numbers for them).

Order of application (each step sees the previous one's output):
1. duplicates (a share of interview slots re-interview an already sampled person),
2. interviewer effects (a shift of the Likert items' latent scale per interviewer),
3. memorised answers (adjacent-category misclassification in memorised interviews),
4. item nonresponse (MCAR, or MNAR on the item's own value or on distress),
5. per-question item nonresponse (ON by default: the paper's valid Ns, see below),
then ``avgpsych`` is recomputed as the mean of the answered Likert items.

Per-question item nonresponse (``item_nonresponse``) is the paper's: "the number of
valid responses usually falls below this number" (fn. 2), and every table and
regression has its own valid N. Question q is left blank in exactly
``round(share_q * n)`` interviews. By default the shares are the assumptions
``nonresponse.<question>`` (targets/assumptions.yaml), solved so that each Table 7 and
Table 9 fit's valid N at n = 1,346 prints as the paper's (``calibration.nonresponse``).
With the default ``monotone`` pattern the blanks are nested: interviews are ranked by
a reticence score (logistic noise plus ``item_nonresponse_distress`` per SD of
distress: 0 = missing completely at random) and question q is blank for the k_q most
reticent, so a model's valid N is n minus the largest k_q among its questions, the
same in every sample; ``independent`` draws each question's blanks separately.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator
from scipy.special import expit, logit
from scipy.stats import norm

from sim_refugee.errors import UserInputError, require_columns
from sim_refugee.targets import assumption_defaults
from sim_refugee.validation import FrozenModel
from sim_refugee.world.extras import AID_BELIEFS, WITNESS
from sim_refugee.world.model import ITEMS

#: the columns a design adds to the population's (docs/ARCHITECTURE.md, Contract 1)
SAMPLE_EXTRA_COLUMNS = ("site", "interviewer", "incl_prob", "weight", "design")

LIKERT_ITEMS: tuple[str, ...] = ITEMS  # the seven Table 7 items (one source: world.model)
N_CATEGORIES = 4

#: the questions that can be left blank, and the sample columns each one blanks (a
#: blank question also blanks the follow-ups asked only after it, world/extras.py: the
#: detainees' Table 6 answers, the reason a family member is missing, the food-aid
#: beliefs, Table 8's detailed destination)
QUESTION_COLUMNS: dict[str, tuple[str, ...]] = {
    **{it: (it,) for it in ITEMS},
    "foodaid": ("foodaid", "aid_status", *AID_BELIEFS), "camp": ("camp", *WITNESS),
    "arrest": ("arrest",),
    "trafficking": ("trafficking",), "death": ("death",),
    "family_missing": ("family_missing", "family_missing_why"), "children": ("children",),
    "years_in_china": ("years_in_china", "china_spell"), "job": ("job",),
    "dest": ("dest", "prefer_us", "prefer_sk", "dest_detail"),
}


def paper_nonresponse_shares() -> dict[str, float]:
    """The default per-question shares of blank answers (assumptions nonresponse.<q>)."""
    d = assumption_defaults()
    return {q: float(d[f"nonresponse.{q}"]) for q in QUESTION_COLUMNS}


class ArtefactParams(FrozenModel):
    """Switches and sizes of the survey artefacts (every one OFF by default).

    duplicate_rate: probability that an interview slot is a repeat interview of a
        person already in the sample (assumption; the paper only says repeats were
        excluded in Shenyang). The sample size stays n; distinct persons fall.
    duplicate_mode: "copy" (the repeat's answers are identical) or "redraw" (each
        Likert answer is misclassified to an adjacent category with probability
        ``duplicate_redraw_error``, a second imperfect telling).
    memorised_rate: share of interviews recorded from the interviewer's memory.
    memorised_error: per-item probability of an adjacent-category error in a memorised
        interview.
    nonresponse_rate: baseline per-item probability of a missing answer.
    nonresponse_mechanism: "mcar" (constant rate), "mnar_value" (log-odds rise by
        ``nonresponse_slope`` per unit of the item above the midpoint of its observed
        range: 2.5 for the 1..4 items, 0.5 for a 0/1 item), or
        "mnar_distress" (log-odds rise by ``nonresponse_slope`` per SD of ``distress``).
    nonresponse_items: the columns that can go missing (default the seven Likert items).
    interviewer_sd: SD of the interviewer-level shift of the Likert items' latent scale
        (in latent SD units; 0 = no interviewer effect).
    item_nonresponse: per-question shares of blank answers: "paper" (default: the
        shares solved to the paper's valid Ns), "none", or {question: share}.
    item_nonresponse_pattern: "monotone" (nested blanks by a reticence rank: each fit's
        valid N is fixed) or "independent" (each question's blanks drawn separately).
    item_nonresponse_distress: the reticence score's log-odds per SD of distress
        (0 = missing completely at random; > 0: the distressed leave more blanks).
    """

    duplicate_rate: float = Field(0.0, ge=0.0, lt=1.0)
    duplicate_mode: Literal["copy", "redraw"] = "redraw"
    duplicate_redraw_error: float = Field(0.2, ge=0.0, le=1.0)
    memorised_rate: float = Field(0.0, ge=0.0, le=1.0)
    memorised_error: float = Field(0.15, ge=0.0, le=1.0)
    nonresponse_rate: float = Field(0.0, ge=0.0, lt=1.0)
    nonresponse_mechanism: Literal["mcar", "mnar_value", "mnar_distress"] = "mcar"
    nonresponse_slope: float = 1.0
    nonresponse_items: tuple[str, ...] = LIKERT_ITEMS
    interviewer_sd: float = Field(0.0, ge=0.0)
    item_nonresponse: Literal["paper", "none"] | dict[str, float] = "paper"
    item_nonresponse_pattern: Literal["monotone", "independent"] = "monotone"
    item_nonresponse_distress: float = 0.0

    @field_validator("item_nonresponse")
    @classmethod
    def _known_questions(cls, v):
        if isinstance(v, dict):
            for q, share in v.items():
                if q not in QUESTION_COLUMNS:
                    raise ValueError(f"unknown question {q!r}; questions: "
                                     f"{', '.join(QUESTION_COLUMNS)}")
                if not 0.0 <= share < 1.0:
                    raise ValueError(f"item_nonresponse[{q!r}] must be a share in [0, 1), "
                                     f"got {share}")
        return v

    def nonresponse_shares(self) -> dict[str, float]:
        """Question -> share of interviews that leave it blank (empty: none)."""
        if self.item_nonresponse == "none":
            return {}
        if self.item_nonresponse == "paper":
            return paper_nonresponse_shares()
        return {q: s for q, s in self.item_nonresponse.items() if s > 0}


# ---------------------------------------------------------------------------
# sample assembly shared by the designs
# ---------------------------------------------------------------------------


def assemble_sample(
    pop: pd.DataFrame,
    rows: np.ndarray,
    *,
    design: str,
    site: np.ndarray | pd.Series | str | None = None,
    interviewer: np.ndarray | None = None,
    incl_prob: np.ndarray | float | None = None,
    weight: np.ndarray | float | None = None,
    n_interviewers: int = 48,
    rng: np.random.Generator | None = None,
    extra: dict[str, np.ndarray] | None = None,
) -> pd.DataFrame:
    """The Contract-1 sample frame for population positions ``rows``.

    ``site`` defaults to the person's ``home_site``; ``interviewer`` defaults to a
    uniform random assignment among ``n_interviewers`` (needs ``rng``);
    ``incl_prob``/``weight`` default to NaN (design defines none).
    """
    rows = np.asarray(rows, dtype=np.int64)
    sample = pop.iloc[rows].reset_index(drop=True)
    n = len(rows)
    if site is None:
        site_vals = (
            sample["home_site"].astype(str).to_numpy()
            if "home_site" in sample
            else np.full(n, "none", dtype=object)
        )
    elif isinstance(site, str):
        site_vals = np.full(n, site, dtype=object)
    else:
        site_vals = np.asarray(site, dtype=object)
    if interviewer is None:
        if rng is None:
            raise ValueError("assemble_sample needs rng to assign interviewers")
        interviewer = rng.integers(0, n_interviewers, size=n)
    nan = np.full(n, np.nan)
    cols: dict[str, object] = {
        "site": site_vals,
        "interviewer": np.asarray(interviewer, dtype=np.int64),
        "incl_prob": nan if incl_prob is None else np.broadcast_to(incl_prob, n).astype(float),
        "weight": nan if weight is None else np.broadcast_to(weight, n).astype(float),
        "design": np.full(n, design, dtype=object),
    }
    cols.update(extra or {})
    sample = pd.concat(
        [sample.drop(columns=[c for c in cols if c in sample]), pd.DataFrame(cols)], axis=1
    )
    assert all(c in sample for c in SAMPLE_EXTRA_COLUMNS)
    return sample


# ---------------------------------------------------------------------------
# the artefacts
# ---------------------------------------------------------------------------


def _adjacent_error(values: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
    """Move each non-missing 1..4 answer to an adjacent category with probability ``rate``.

    Direction is up or down with equal chance; at the ends of the scale the only
    neighbour is used.
    """
    out = values.astype(float).copy()
    ok = ~np.isnan(out)
    hit = ok & (rng.random(out.shape) < rate)
    step = np.where(rng.random(out.shape) < 0.5, -1.0, 1.0)
    step = np.where(out <= 1, 1.0, np.where(out >= N_CATEGORIES, -1.0, step))
    out[hit] = out[hit] + step[hit]
    return out


def _latent_thresholds(pop_values: np.ndarray) -> np.ndarray:
    """Cumulative-probit cut points (length 5, -inf..inf) from a population item's marginal."""
    vals = pop_values[~np.isnan(pop_values)]
    cum = np.array([np.mean(vals <= k) for k in range(1, N_CATEGORIES)])
    cum = np.clip(cum, 1e-12, 1 - 1e-12)
    return np.concatenate([[-np.inf], norm.ppf(cum), [np.inf]])


def _interviewer_shift(
    sample: pd.DataFrame, pop: pd.DataFrame, items: tuple[str, ...], sd: float,
    rng: np.random.Generator,
) -> None:
    """Shift each item's latent scale by the interviewer's random effect (in place).

    The latent value behind an answer is drawn uniformly in probability within its
    category's interval of a standard-normal latent whose cut points reproduce the
    population marginal; adding the interviewer's shift and re-cutting gives the
    answer the respondent would give that interviewer. With sd = 0 nothing changes.
    """
    codes, uniques = pd.factorize(sample["interviewer"])
    shift = rng.normal(0.0, sd, size=len(uniques))[codes]
    for item in items:
        y = sample[item].to_numpy(dtype=float, copy=True)
        cuts = _latent_thresholds(pop[item].to_numpy(dtype=float))
        ok = ~np.isnan(y)
        k = y[ok].astype(int)
        lo, hi = norm.cdf(cuts[k - 1]), norm.cdf(cuts[k])
        u = lo + (hi - lo) * rng.random(k.size)
        z = norm.ppf(np.clip(u, 1e-15, 1 - 1e-15)) + shift[ok]
        new = y.copy()
        new[ok] = np.searchsorted(cuts[1:-1], z) + 1
        sample[item] = new


def _duplicates(
    sample: pd.DataFrame, params: ArtefactParams, rng: np.random.Generator
) -> pd.DataFrame:
    """Replace a Binomial(n, rate) set of slots by repeat interviews of other sampled persons.

    The slot keeps its site and interviewer (it is a second interview); the person,
    answers, inclusion probability and weight are the original's. ``duplicate`` marks
    the repeat (a diagnostic column; the analyst would not see it).
    """
    n = len(sample)
    k = int(rng.binomial(n, params.duplicate_rate))
    k = min(k, n // 2)
    sample["duplicate"] = 0
    if k == 0:
        return sample
    order = rng.permutation(n)
    targets, sources = order[:k], order[k : 2 * k]
    keep = ("site", "interviewer")
    for col in sample.columns:
        if col in keep:
            continue
        vals = sample[col].to_numpy(copy=True)
        vals[targets] = vals[sources]
        sample[col] = vals
    dup = np.zeros(n, dtype=np.int64)
    dup[targets] = 1
    sample["duplicate"] = dup
    if params.duplicate_mode == "redraw":
        for item in LIKERT_ITEMS:
            if item in sample:
                vals = sample[item].to_numpy(dtype=float, copy=True)
                vals[targets] = _adjacent_error(vals[targets], params.duplicate_redraw_error, rng)
                sample[item] = vals
    return sample


def _nonresponse(
    sample: pd.DataFrame, params: ArtefactParams, rng: np.random.Generator
) -> None:
    """Set item answers to NaN by the chosen mechanism (in place)."""
    base = logit(params.nonresponse_rate)
    distress = None
    if params.nonresponse_mechanism == "mnar_distress":
        require_columns(sample, ["distress"], "sample (nonresponse_mechanism='mnar_distress')")
        distress = sample["distress"].to_numpy(dtype=float)
    for item in params.nonresponse_items:
        y = sample[item].to_numpy(dtype=float, copy=True)
        if params.nonresponse_mechanism == "mcar":
            p = np.full(y.shape, params.nonresponse_rate)
        elif params.nonresponse_mechanism == "mnar_value":
            mid = (np.nanmin(y) + np.nanmax(y)) / 2.0 if np.isfinite(y).any() else 0.0
            p = expit(base + params.nonresponse_slope * (np.nan_to_num(y, nan=mid) - mid))
        else:
            p = expit(base + params.nonresponse_slope * distress)
        y[rng.random(y.shape) < p] = np.nan
        sample[item] = y


def _item_nonresponse(
    sample: pd.DataFrame, params: ArtefactParams, rng: np.random.Generator
) -> None:
    """Blank exactly round(share_q * n) answers of each question q (in place)."""
    shares = params.nonresponse_shares()
    n = len(sample)
    if not shares or n == 0:
        return
    slope = params.item_nonresponse_distress
    shift = 0.0
    if slope != 0.0:
        require_columns(sample, ["distress"], "sample (artefacts.item_nonresponse_distress)")
        shift = slope * sample["distress"].to_numpy(dtype=float)

    def ranking() -> np.ndarray:
        u = rng.random(n)
        score = np.log(u) - np.log1p(-u) + shift  # logistic noise + distress tilt
        return np.argsort(-score, kind="stable")

    order = ranking() if params.item_nonresponse_pattern == "monotone" else None
    for q, share in shares.items():
        k = int(round(share * n))
        if k == 0:
            continue
        cols = [c for c in QUESTION_COLUMNS[q] if c in sample]
        if not cols:
            continue
        rows = (order if order is not None else ranking())[:k]
        for c in cols:
            vals = sample[c].to_numpy(copy=True)
            if vals.dtype.kind in "biuf":
                vals = vals.astype(float)
                vals[rows] = np.nan
            else:
                vals = vals.astype(object)
                vals[rows] = None
            sample[c] = vals


def apply_artefacts(
    sample: pd.DataFrame, pop: pd.DataFrame, params: ArtefactParams | None,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """The sample with the switched-on artefacts applied (a new frame; input untouched)."""
    if params is None:
        params = ArtefactParams()
    out = sample.copy()
    if params.nonresponse_rate > 0:
        require_columns(out, list(params.nonresponse_items), "sample (artefacts.nonresponse_items)")
    touched = False
    if params.duplicate_rate > 0:
        out = _duplicates(out.reset_index(drop=True), params, rng)
        touched = params.duplicate_mode == "redraw"
    items = tuple(i for i in LIKERT_ITEMS if i in out)
    if params.interviewer_sd > 0:
        require_columns(pop, list(LIKERT_ITEMS), "population (artefacts.interviewer_sd)")
        _interviewer_shift(out, pop, LIKERT_ITEMS, params.interviewer_sd, rng)
        touched = True
    if params.memorised_rate > 0 and items:
        memo = rng.random(len(out)) < params.memorised_rate
        out["memorised"] = memo.astype(int)
        for item in items:
            vals = out[item].to_numpy(dtype=float, copy=True)
            vals[memo] = _adjacent_error(vals[memo], params.memorised_error, rng)
            out[item] = vals
        touched = True
    if params.nonresponse_rate > 0:
        _nonresponse(out, params, rng)
        touched = touched or any(i in LIKERT_ITEMS for i in params.nonresponse_items)
    shares = params.nonresponse_shares()
    if shares:
        out = out.reset_index(drop=True)
        _item_nonresponse(out, params, rng)
        touched = touched or any(shares.get(i, 0.0) > 0 for i in LIKERT_ITEMS)
    if touched and items and "avgpsych" in out:
        block = out[list(items)].to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            answered = (~np.isnan(block)).sum(axis=1)
            out["avgpsych"] = np.where(answered > 0, np.nansum(block, axis=1) / np.maximum(answered, 1), np.nan)
    return out


def effective_n(sample: pd.DataFrame, items: tuple[str, ...] = LIKERT_ITEMS) -> pd.Series:
    """Rows, distinct persons, and valid (non-missing) N per item: what artefacts shrink."""
    require_columns(sample, ["person_id"], "sample")
    out = {"rows": len(sample), "persons": int(sample["person_id"].nunique())}
    for item in items:
        if item in sample:
            out[f"valid_{item}"] = int(sample[item].notna().sum())
    return pd.Series(out, dtype="int64")


def check_n(n: int, pop: pd.DataFrame, key: str = "n") -> None:
    """UserInputError unless n is an int (not a bool) with 0 < n <= population size."""
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n <= 0:
        raise UserInputError(f"{key} must be a positive integer, got {n!r}", key=key)
    if n > len(pop):
        raise UserInputError(
            f"{key}={n} exceeds the population size {len(pop)}", key=key
        )
