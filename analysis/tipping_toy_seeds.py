"""Calibration of `sim-refugee tipping` on the toy known answer, over root seeds.

Runs experiments/tipping_toy.toml (95% CI, tolerance 0.005) at n = 100 and n = 400 for
several root seeds (each seed is also a new population) and compares each answer with
the exact tipping strength of its realized population (tests/tipping/analytic.py).
Prints one line per run and, per n, the share of CIs that cover the exact value and the
mean and sd of z = (found - exact) / (CI half-width / 1.96).

    python3 analysis/tipping_toy_seeds.py --n 100 400 --seeds 1 16
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.tipping.analytic import population_y, reject_share, root  # noqa: E402

from sim_refugee.io import read_toml  # noqa: E402
from sim_refugee.tipping.config import validate_tipping  # noqa: E402
from sim_refugee.tipping.run import run_tipping  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, nargs="+", default=[100, 400])
    ap.add_argument("--seeds", type=int, nargs=2, default=[1, 16], metavar=("FIRST", "STOP"))
    args = ap.parse_args()
    for n in args.n:
        zs, cover = [], []
        for seed in range(*args.seeds):
            raw = read_toml(ROOT / "experiments" / "tipping_toy.toml")
            raw["sample"]["n"] = n
            raw["experiment"]["root_seed"] = seed
            res = run_tipping(validate_tipping(raw)).results[0][2]
            exact = root(reject_share, population_y(seed), n, 0.5)
            half = (res.ci_high - res.ci_low) / 2
            z = (res.value - exact) / (half / 1.959964)
            zs.append(z)
            cover.append(res.ci_low <= exact <= res.ci_high)
            print(f"n={n} seed={seed}: exact {exact:.5f} found {res.value:.5f} "
                  f"[{res.ci_low:.5f}, {res.ci_high:.5f}] z {z:+.2f} "
                  f"{res.replications} reps {res.status}", flush=True)
        zs_a = np.array(zs)
        print(f"n={n}: {sum(cover)}/{len(cover)} CIs cover the exact value; z mean "
              f"{zs_a.mean():+.2f} (se {1 / math.sqrt(len(zs)):.2f}), sd {zs_a.std(ddof=1):.2f}",
              flush=True)


if __name__ == "__main__":
    main()
