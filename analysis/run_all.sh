#!/usr/bin/env bash
# Run every study in experiments/ (except paper_baseline, the README's quick demo) in
# order of priority, one after another (each uses the config's backend: loky, 2
# workers), keeping outputs under results/. Then the cross-study figures.
#   analysis/run_all.sh            # all studies
#   analysis/run_all.sh NAME...    # only these (e.g. null_world sample_size)
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
studies=("$@")
if [ ${#studies[@]} -eq 0 ]; then
  studies=(paper_is_right design_comparison null_world selection_sweep sample_size
           design_comparison_weighted)
fi
for s in "${studies[@]}"; do
  echo "=== $s: $(date -u +%H:%M:%S)"
  "$root/analysis/run_study.sh" "$root/experiments/$s.toml" || echo "!!! $s failed"
done
# analysis of kept results always uses this checkout's code (even when PYTHONPATH points
# the simulation at an exported commit, see results/README.md)
PYTHONPATH="$root/src" python3 "$root/analysis/cross_study.py" "${RESULTS_DIR:-$root/results}" \
  || echo "!!! cross_study failed"
echo "=== done: $(date -u +%H:%M:%S)"
