"""Peak memory and wall time of run + diagnose against the number of replications.

    python benchmarks/bench_storage.py [--small 20000] [--large 200000] [--chunk 5000]

Toy unit (``engine.unit_toy``), two designs (srs, biased), one population of 2,000,
n = 50, serial backend (one process, so its peak RSS is the whole job's). Each size runs
in a fresh Python process: ``run`` (chunks, then the streaming ``collect`` into
results.nc) and then ``diagnose`` as the command line does it (streaming diagnosis with
the claims evaluated from the stored estimates, then diagnostics.nc/.csv/.md). The
process's peak RSS (``ru_maxrss``) after each stage and the stage times are printed,
then the ratios large / small. Goal (issue 13): peak RSS ratio <= 1.5; wall time linear
(time ratio ~ the replication ratio). On a shared, loaded machine read the time ratio
only, not absolute times.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

CONFIG = """
[experiment]
name = "bench_storage"
unit = "toy"
root_seed = 3
replications = {reps}
chunk_size = {chunk}
[world]
size = 2000
[[designs]]
name = "srs"
[[designs]]
name = "biased"
params = {{ strength = 0.3 }}
[sample]
n = 50
"""

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
cfg, out = Path(sys.argv[1]), Path(sys.argv[2])

def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

from sim_refugee.cli import main
import sim_refugee.diagnosis.stream, sim_refugee.engine.run  # imports off the clock
base = rss_mb()
t0 = time.perf_counter()
assert main(["run", str(cfg), "--out", str(out), "--backend", "serial", "--no-progress"]) == 0
t1 = time.perf_counter()
run_rss = rss_mb()
assert main(["diagnose", str(out)]) == 0
t2 = time.perf_counter()
print(json.dumps({"rss_import_mb": base, "rss_after_run_mb": run_rss,
                  "rss_peak_mb": rss_mb(), "run_s": t1 - t0, "diagnose_s": t2 - t1}))
"""


def measure(reps: int, chunk: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "bench.toml"
        cfg.write_text(CONFIG.format(reps=reps, chunk=chunk))
        proc = subprocess.run([sys.executable, "-c", CHILD, str(cfg), str(Path(tmp) / "out")],
                              capture_output=True, text=True, check=True)
        return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", type=int, default=20_000)
    ap.add_argument("--large", type=int, default=200_000)
    ap.add_argument("--chunk", type=int, default=5_000)
    a = ap.parse_args()
    res = {}
    for reps in (a.small, a.large):
        res[reps] = measure(reps, a.chunk)
        r = res[reps]
        print(f"{reps:>8} replications x 2 designs: peak RSS {r['rss_peak_mb']:.0f} MB "
              f"(after imports {r['rss_import_mb']:.0f}, after run {r['rss_after_run_mb']:.0f}); "
              f"run {r['run_s']:.1f} s, diagnose {r['diagnose_s']:.1f} s", flush=True)
    s, big = res[a.small], res[a.large]
    print(f"ratios large/small ({a.large / a.small:g}x replications): peak RSS "
          f"{big['rss_peak_mb'] / s['rss_peak_mb']:.2f} (goal <= 1.5); wall time run "
          f"{big['run_s'] / s['run_s']:.2f}, diagnose {big['diagnose_s'] / s['diagnose_s']:.2f}, "
          f"total {(big['run_s'] + big['diagnose_s']) / (s['run_s'] + s['diagnose_s']):.2f} "
          "(linear: ~ the replication ratio)")


if __name__ == "__main__":
    main()
