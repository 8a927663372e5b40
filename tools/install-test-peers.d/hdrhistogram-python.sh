#!/usr/bin/env bash
# HdrHistogram's Python implementation (PyPI "hdrhistogram", module hdrh): the tests decode
# evq's --histogram-log with it, a peer implementation of the log format.
set -euo pipefail
python3 -c 'import hdrh' 2>/dev/null && exit 0
python3 -m pip install --quiet hdrhistogram >&2
