#!/usr/bin/env bash
# The main job (README): builds evq in release mode and runs it. With no arguments, a cancel-race
# stress run with its report and exactly-once audit; any arguments are passed to `evq` instead,
# e.g. `tools/run.sh race --threads 8 --operations 1000000` or `tools/run.sh cancel-latency`.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
swift build -c release --product evq >&2
if [ $# -eq 0 ]; then set -- race; fi
exec .build/release/evq "$@"
