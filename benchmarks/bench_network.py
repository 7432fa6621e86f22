"""Benchmark: the RDS social network for a 400,000-person population, and one RDS draw.

Run by hand:  python3 benchmarks/bench_network.py [--size 400000] [--n 1346] [--repeat 3]

Prints wall-clock seconds (best of --repeat) and ratios against two baselines
measured in the same run: an Erdos-Renyi G(n, m) graph with the same number of
people and ties, built with the same numpy + scipy.sparse pipeline (uniform
endpoints, symmetrised CSR), and a simple random sample of the same n.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.sparse as sp

from sim_refugee.designs import get_design
from sim_refugee.seeds import rng_for, seed_sequence
from sim_refugee.world import WorldConfig, build_population
from sim_refugee.world.network import NetworkParams, build_network


def erdos_renyi(n: int, mean_degree: float, rng: np.random.Generator) -> sp.csr_matrix:
    """G(n, m) baseline with m = n x mean_degree / 2 uniform ties."""
    m = int(n * mean_degree / 2)
    a, b = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = a != b
    a, b = a[keep], b[keep]
    adj = sp.csr_matrix(
        (np.ones(2 * a.size, dtype=np.int8), (np.concatenate([a, b]), np.concatenate([b, a]))),
        shape=(n, n),
    )
    adj.sum_duplicates()
    adj.data[:] = 1
    return adj


def best(fn, repeat: int) -> tuple[float, object]:
    """Best wall time over ``repeat`` calls, and the last result."""
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=400_000)
    ap.add_argument("--n", type=int, default=1346)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    t0 = time.perf_counter()
    pop = build_population(
        WorldConfig(size=args.size, calibration="none"), seed_sequence(7, "population", 0)
    )
    print(f"population of {len(pop):,} built in {time.perf_counter() - t0:.2f} s (not timed below)")

    params = NetworkParams()
    t_net, net = best(lambda: build_network(pop, params, rng_for(7, "prepare", 0, "rds")), args.repeat)
    t_er, er = best(lambda: erdos_renyi(len(pop), params.mean_degree, rng_for(7, "er")), args.repeat)

    rds, srs = get_design("rds"), get_design("srs")
    rp, sp_ = rds.Params(), srs.Params()
    t_rds, sample = best(lambda: rds.draw(pop, net, args.n, rp, rng_for(7, "sample", 0, 0)), args.repeat)
    t_srs, _ = best(lambda: srs.draw(pop, None, args.n, sp_, rng_for(7, "sample", 0, 0)), args.repeat)

    print(f"network: {net.adj.nnz // 2:,} ties, mean degree {net.degree.mean():.2f}, "
          f"max {net.degree.max()}, isolates {np.mean(net.degree == 0):.1%}")
    print(f"{'step':<40}{'seconds':>10}{'ratio':>10}")
    print(f"{'Erdos-Renyi baseline (same n, ties)':<40}{t_er:>10.3f}{1.0:>10.2f}")
    print(f"{'build_network (homophily, degrees)':<40}{t_net:>10.3f}{t_net / t_er:>10.2f}")
    srs_label = f"SRS draw baseline (n={args.n})"
    rds_label = f"RDS draw (n={len(sample)}, {sample['wave'].max()} waves)"
    print(f"{srs_label:<40}{t_srs:>10.3f}{1.0:>10.2f}")
    print(f"{rds_label:<40}{t_rds:>10.3f}{t_rds / t_srs:>10.2f}")
    print(f"{'network + RDS draw':<40}{t_net + t_rds:>10.3f}")


if __name__ == "__main__":
    main()
