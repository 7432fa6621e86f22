"""False-alarm rate of ``assert_unbiased(z)`` on an unbiased estimator, over many seeds.

Run by hand (minutes, not a test)::

    python analysis/false_alarm_rate.py --seeds 20000 --reps 400 50 --n-jobs 1

For each replication count R and each of S seeds, ``sim_refugee.testing.recovery`` runs
R replications of the mean of n = 10 draws from N(0, 1) (truth 0) and
``assert_unbiased(z)`` is called; the script counts how often it raises. The estimates
are exactly normal, so under no bias bias/MCSE (MCSE estimated from the same R
replications) is exactly Student t with R - 1 degrees of freedom: the nominal false-alarm
rate is P(|t_{R-1}| > z), a little above the normal 2 P(N(0,1) > z) = 0.0027 for z = 3
(0.00287 at R = 400, 0.0042 at R = 50). Seed of (R, s): seed_sequence(root, "false-alarm",
R, s), so the rows are independent and the counts do not depend on --n-jobs.

Prints a Markdown table: R, S, false alarms, rate (MCSE = sqrt(rate (1 - rate) / S)),
the t and normal nominal rates, and (rate - t nominal) / its binomial SE at the nominal
rate; then a second table that
compares the whole distribution of bias / MCSE over the same seeds with t (KS test,
shares beyond 2, 2.5, z and 3.5), to tell a chance fluctuation at z from a wrong shape.
"""

from __future__ import annotations

import argparse

import numpy as np
from joblib import Parallel, delayed
from scipy import stats

from sim_refugee.seeds import seed_sequence
from sim_refugee.testing import recovery

N_DRAWS = 10


def _draw(rng: np.random.Generator) -> np.ndarray:
    return rng.normal(0.0, 1.0, N_DRAWS)


def _mean(y: np.ndarray) -> tuple[float, float]:
    return float(y.mean()), float(y.std(ddof=1) / np.sqrt(len(y)))


def _alarms(root: int, reps: int, seeds: range, z: float) -> tuple[int, np.ndarray]:
    """How many of ``seeds`` make assert_unbiased(z) raise at ``reps`` replications, and
    bias / MCSE of every seed (to compare its whole distribution with t)."""
    count, t = 0, []
    for s in seeds:
        res = recovery(_draw, _mean, 0.0, reps, seed_sequence(root, "false-alarm", reps, s))
        t.append(res.bias["theta"] / res.mcse.loc["theta", "bias"])
        try:
            res.assert_unbiased(z=z)
        except AssertionError:
            count += 1
    return count, np.array(t)


def main(argv: list[str] | None = None) -> None:
    """Measure and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=20000, help="seeds per replication count")
    ap.add_argument("--reps", type=int, nargs="+", default=[400, 50])
    ap.add_argument("--z", type=float, default=3.0)
    ap.add_argument("--root", type=int, default=20080401)
    ap.add_argument("--first-seed", type=int, default=0,
                    help="seed indices first..first+seeds-1 (to extend a run with new seeds)")
    ap.add_argument("--n-jobs", type=int, default=1)
    args = ap.parse_args(argv)
    end = args.first_seed + args.seeds
    blocks = [range(a, min(a + 500, end)) for a in range(args.first_seed, end, 500)]
    print(f"assert_unbiased(z={args.z:g}) on the mean of {N_DRAWS} N(0,1) draws, "
          f"seeds {args.first_seed}..{end - 1} per row, root {args.root}\n")
    print("| replications | seeds | false alarms | rate (MCSE) | nominal P(abs t > z) | "
          "normal 2 P(Z > z) | (rate - nominal) / SE at nominal |")
    print("|---|---|---|---|---|---|---|")
    normal = 2 * stats.norm.sf(args.z)
    shape = []
    for reps in args.reps:
        out = Parallel(n_jobs=args.n_jobs)(
            delayed(_alarms)(args.root, reps, b, args.z) for b in blocks)
        k = int(sum(c for c, _ in out))
        t = np.concatenate([v for _, v in out])
        rate = k / args.seeds
        mcse = np.sqrt(rate * (1 - rate) / args.seeds)
        nominal = 2 * stats.t.sf(args.z, reps - 1)
        se0 = np.sqrt(nominal * (1 - nominal) / args.seeds)
        print(f"| {reps} | {args.seeds} | {k} | {rate:.5f} ({mcse:.5f}) | {nominal:.5f} | "
              f"{normal:.5f} | {(rate - nominal) / se0:+.2f} |", flush=True)
        tails = []
        for c in (2.0, 2.5, args.z, 3.5):
            p = 2 * stats.t.sf(c, reps - 1)
            share = np.mean(np.abs(t) > c)
            tails.append(f"{share:.5f} vs {p:.5f} ({(share - p) / np.sqrt(p * (1 - p) / len(t)):+.1f})")
        shape.append(f"| {reps} | {stats.kstest(t, stats.t(reps - 1).cdf).pvalue:.2f} | "
                     + " | ".join(tails) + " |")
    print("\nThe whole distribution of bias / MCSE over the same seeds against t with R - 1 df: "
          "Kolmogorov-Smirnov p-value, and the share beyond each cut vs P(abs t > cut) "
          "(in binomial SEs at the t value):\n")
    print(f"| replications | KS p | abs > 2 | abs > 2.5 | abs > {args.z:g} | abs > 3.5 |")
    print("|---|---|---|---|---|---|")
    print("\n".join(shape))


if __name__ == "__main__":
    main()
