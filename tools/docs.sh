#!/usr/bin/env bash
# Builds the DocC documentation of every library product with swift-docc-plugin, one archive per
# module in out/docs/MODULE.doccarchive, and fails on any warning (an unresolved symbol link, a
# malformed doc comment, a missing article). Its own scratch path, so it does not rebuild .build.
#   tools/docs.sh [MODULE ...]     (default: every library product)
# Env: SCRATCH (default .build-docs).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
scratch=${SCRATCH:-.build-docs}
modules=("$@")
[ ${#modules[@]} -gt 0 ] || modules=(EventReactor DNSMessage DNSQuery LogQuery DNSResponder EvqueryLifecycle)
mkdir -p out/docs
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
for module in "${modules[@]}"; do
  echo "== $module"
  if ! swift package --scratch-path "$scratch" --allow-writing-to-directory out/docs \
      generate-documentation --target "$module" --output-path "out/docs/$module.doccarchive" \
      --warnings-as-errors >"$log" 2>&1; then
    status=1
  fi
  # Warnings of the documentation itself (docc prints them with the file and line).
  if grep -E '(^|: )warning:' "$log" | grep -v '^warning: .*Package.resolved' >/dev/null; then
    grep -E '(^|: )warning:|(^|: )error:' "$log" >&2 || true
    status=1
  elif [ $status -ne 0 ]; then
    tail -30 "$log" >&2
  fi
done
[ $status -eq 0 ] && echo "docs: ${modules[*]}: no warnings" || echo "docs: FAILED" >&2
exit $status
