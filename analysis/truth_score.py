"""If the default world were the real population, how would it score against the paper's table?

The world-tables check asks a world's expected estimates (mean over 40 paper-design
samples) to match the printed pattern of one sample, the paper's. This script samples a
default world R times the paper's way and, with each sample in turn playing "the paper"
(``calibration.ceiling.truth_scores``), reports:

* the check's score the TRUE world gets against its own single sample (all cells, and
  the Table 7, 2SPLS and destination blocks);
* the common-coefficient count of each sample's destination pattern (the most of its 98
  destination cells one coefficient per (destination, regressor) matches, at the world's
  SEs), beside the same count for the printed table: if the paper's cross-specification
  differences are what sampling noise makes in a world with one effect per regressor,
  the printed count sits inside the samples' distribution.

    python3 analysis/truth_score.py --seed 0 --reps 200 --workers 2 --out DIR

writes DIR/truth_scores.csv (one row per sample) and DIR/arrays.npz (the per-sample
estimates and SEs, cells in ``paper_cells()`` order, with the seed, size and reps that
made them: a rerun with the same arguments reuses them, other arguments recompute), and
prints the summary.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sim_refugee.calibration.ceiling import common_ceiling, truth_scores
from sim_refugee.calibration.cells import paper_cells
from sim_refugee.calibration.expected import effective_se, sample_arrays, summarise_samples
from sim_refugee.errors import UserInputError
from sim_refugee.io import atomic_path
from sim_refugee.seeds import seed_sequence
from sim_refugee.validation import MAX_POPULATION_SIZE, MIN_WORLD_SIZE, check_int
from sim_refugee.world import WorldConfig, build_population

MARGINS = (0.0, 0.2)


def _quantiles(x: pd.Series) -> str:
    q = np.quantile(x, [0.05, 0.5, 0.95])
    return f"mean {x.mean():.1f}, median {q[1]:.0f}, 5-95% {q[0]:.0f}-{q[2]:.0f}"


def _arrays(args: argparse.Namespace, out: Path) -> tuple[np.ndarray, np.ndarray]:
    """The per-sample estimates and SEs: reused from OUT/arrays.npz if it was made with
    the same seed, size and reps, else computed and written (atomically)."""
    key = np.array([args.seed, args.size, args.reps])
    path = out / "arrays.npz"
    if path.exists():
        with np.load(path) as f:
            if "key" in f and np.array_equal(f["key"], key):
                return f["b"], f["s"]
    pop = build_population(WorldConfig(size=args.size), seed_sequence(args.seed, "population", 0))
    b, s, _ = sample_arrays(pop, args.seed, args.reps, paper_cells(), n_jobs=args.workers)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, b=b, s=s, key=key)
    return b, s


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--size", type=int, default=100_000)
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", required=True, help="output directory")
    args = ap.parse_args()
    try:
        check_int(args.seed, "--seed", 0, 2**63 - 1)
        check_int(args.size, "--size", MIN_WORLD_SIZE, MAX_POPULATION_SIZE)
        check_int(args.reps, "--reps", 3)
        check_int(args.workers, "--workers", 1)
    except UserInputError as exc:
        print(f"truth_score.py: error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cells = paper_cells()
    t0 = time.perf_counter()
    b, s = _arrays(args, out)
    det = summarise_samples(cells, b, s)
    se = effective_se(det["mean_b"].to_numpy(float), det["mean_z"].to_numpy(float),
                      det["median_se"].to_numpy(float))
    scores = truth_scores(cells, b, s, se, MARGINS)
    with atomic_path(out / "truth_scores.csv") as tmp:
        scores.to_csv(tmp, index=False)
    print(f"world: default, size {args.size:,}, population seed {args.seed}; "
          f"{b.shape[0]} paper-design samples of 1,346 ({time.perf_counter() - t0:.0f} s)")
    print("score of the true world against one of its own samples (of 195 cells):")
    print(f"  all:  {_quantiles(scores['hits'])}")
    for blk, n in (("t7", 84), ("2spls", 13), ("dest", 98)):
        print(f"  {blk:5s} (of {n}): {_quantiles(scores[f'hits_{blk}'])}")
    print("common-coefficient count of the destination pattern (of 98):")
    for m in MARGINS:
        printed = int(common_ceiling(cells, se, m)["best"].sum())
        col = scores[f"dest_ceiling_{m:g}"]
        share = float((col <= printed).mean())
        print(f"  margin {m:g} z: printed table {printed}; its samples {_quantiles(col)}; "
              f"share of samples at or below the printed count {share:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
