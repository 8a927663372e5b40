#!/usr/bin/env bash
# The collector step: reads each generator's JSON report from its pod's log (between the marker
# lines load-job.yaml prints) and merges them with `evq merge` into one report.
# Usage: deploy/kubernetes/collect.sh [JOB] [OUT-DIR]   (needs kubectl for the cluster, and evq)
set -euo pipefail
job=${1:-evq-load}
out=${2:-evq-fleet-reports}
mkdir -p "$out"
pods=$(kubectl get pods -l "job-name=$job" \
  -o jsonpath='{range .items[*]}{.metadata.annotations.batch\.kubernetes\.io/job-completion-index}{" "}{.metadata.name}{"\n"}{end}')
[ -n "$pods" ] || { echo "collect.sh: no pods of job $job" >&2; exit 1; }
reports=()
while read -r index pod; do
  [ -n "$pod" ] || continue
  file="$out/shard-$index.json"
  kubectl logs "$pod" | sed -n '/^----- evq report json begin -----$/,/^----- evq report json end -----$/p' \
    | sed '1d;$d' >"$file"
  if [ -s "$file" ]; then reports+=("$file"); else echo "collect.sh: $pod printed no report" >&2; fi
done <<<"$pods"
evq merge "${reports[@]}" --json "$out/merged.json"
