#!/usr/bin/env bash
# Run one study end to end and keep its small outputs under results/<name>/:
#   analysis/run_study.sh experiments/<name>.toml [extra `sim-refugee run` flags]
# Steps: run (into runs/<name>, chunk files stay there), collect (done by run),
# diagnose (in the run folder), then keep manifest.json, results.nc (zlib), the config
# and a provenance.json (code commit, wall time, host cores) in results/<name>/ and
# write its report there. Neither the chunks nor the diagnosis files are kept:
# results.nc holds every replication, and `sim-refugee diagnose results/<name>` (or the
# report, which diagnoses on the fly) recomputes the diagnosis exactly from it.
set -euo pipefail
cfg="$1"; shift || true
name="$(basename "$cfg" .toml)"
root="$(cd "$(dirname "$0")/.." && pwd)"
run="${RUNS_DIR:-$root/runs}/$name"
keep="${RESULTS_DIR:-$root/results}/$name"
start=$(date +%s)
started_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
sim-refugee run "$cfg" --out "$run" --no-progress "$@"
sim-refugee diagnose "$run"
end=$(date +%s)
mkdir -p "$keep"
cp "$run/manifest.json" "$keep/"
# results.nc re-encoded with zlib (same values, checked; open_results reads it as it is)
python3 "$root/analysis/keep_compressed.py" "$run" "$keep"
cp "$cfg" "$keep/config.toml"
python3 - "$keep" "$start" "$end" "$started_at" "$root" <<'PY'
import json, os, subprocess, sys
keep, start, end, started_at, root = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
git = lambda *a: subprocess.run(["git", "-C", root, *a], capture_output=True, text=True).stdout
man = json.load(open(os.path.join(keep, "manifest.json")))
prov = {
    "config": os.path.join(os.path.basename(os.path.dirname(keep)), os.path.basename(keep), "config.toml"),
    "root_seed": man["root_seed"],
    "replications": man["replications"],
    "populations": man["populations"],
    "conditions": len(man["conditions"]),
    "designs": man["designs"],
    "population_size": man["config"].get("world", {}).get("size"),
    "package_version": man["versions"].get("sim_refugee"),
    "versions": man["versions"],
    # SIM_REFUGEE_CODE_COMMIT: the run used a clean export of that commit (PYTHONPATH),
    # not the working tree (see results/README.md); otherwise the checkout's state.
    "code": ("clean export (git archive) of commit " + os.environ["SIM_REFUGEE_CODE_COMMIT"]
             if os.environ.get("SIM_REFUGEE_CODE_COMMIT") else "working tree of the checkout"),
    "git_commit": os.environ.get("SIM_REFUGEE_CODE_COMMIT") or git("rev-parse", "HEAD").strip(),
    "git_dirty_files_under_src": [] if os.environ.get("SIM_REFUGEE_CODE_COMMIT") else
        [ln[3:] for ln in git("status", "--porcelain", "src").splitlines()],
    "python_path_of_sim_refugee": __import__("sim_refugee").__file__,
    "started_at": started_at,
    "wall_seconds_run_and_diagnose": end - start,
    "engine_compute_seconds": man.get("summary", {}).get("seconds"),
    "backend": man.get("backend"),
    "cpu_count": os.cpu_count(),
    "load_average_at_end": os.getloadavg(),
}
json.dump(prov, open(os.path.join(keep, "provenance.json"), "w"), indent=2)
PY
# the report is analysis of kept results: this checkout's code (see run_all.sh)
PYTHONPATH="$root/src" sim-refugee report "$keep"
echo "kept: $keep ($(du -sh "$keep" | cut -f1))"
