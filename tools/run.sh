#!/usr/bin/env bash
# The main job (README): builds evq in release mode and runs it. With no arguments, `evq load`: the
# embedded DNS responder on 127.0.0.1, a 5-second closed-loop load of 100 outstanding queries with
# 5 % of them cancelled from the loop and from another thread, a live line a second, and the report
# with its exactly-once audit (non-zero exit if it fails). Any arguments are passed to `evq`
# instead, e.g. `tools/run.sh load --rate 50000 --plot out/load.svg` or `tools/run.sh race`.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
swift build -c release --product evq >&2
if [ $# -eq 0 ]; then set -- load; fi
exec .build/release/evq "$@"
