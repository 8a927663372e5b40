#!/usr/bin/env bash
# Scan speed, warm page cache, same run: `evq scan --count` (LogQuery's count mode, in slices on a
# reactor) against grep and ripgrep; then the longest loop stall a scan caused (`--stats`).
# Usage: tools/scan-speed.sh [SIZE_BYTES]   (default 1 GiB; the file is cached in /tmp)
#        EVQ=path/to/evq tools/scan-speed.sh   (skip the release build)
# Needs ripgrep (tools/install-deps.sh ripgrep) and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1073741824}
data=${SCAN_SPEED_FILE:-/tmp/evq-scan-speed-$size.log}

if [ ! -s "$data" ]; then
    echo "generating $data ($size bytes)..." >&2
    python3 tools/scan-speed/generate.py "$data.tmp" "$size"
    mv "$data.tmp" "$data"
fi
command -v rg >/dev/null || tools/install-deps.sh ripgrep

# evq itself, release build with the Swift runtime linked statically, as a deployed tool would be
# (dynamically linked, loading libswiftCore/Foundation/ICU and resolving their symbols costs ~15 ms of
# CPU per run, ~7 % of a 1 GiB count; static: ~6 ms; rg starts in ~3 ms). Its own scratch path, so
# as not to rebuild .build-release; or EVQ=/path/to/evq to time a binary built elsewhere.
if [ -z "${EVQ:-}" ]; then
    swift build -c release --product evq --static-swift-stdlib --scratch-path .build-release-static >&2
    EVQ="$(swift build -c release --static-swift-stdlib --scratch-path .build-release-static --show-bin-path)/evq"
fi
evq_count() { "$EVQ" scan --count --filter "$2" "$1"; }

bytes=$(stat -c %s "$data")
cat "$data" >/dev/null  # warm the page cache

# best and median of 3 wall-clock runs; prints "best median count"
time3() {
    local times=() out=""
    for _ in 1 2 3; do
        local t0 t1
        t0=$(date +%s.%N)
        out=$("$@" || true)
        t1=$(date +%s.%N)
        times+=("$(echo "$t1 - $t0" | bc -l)")
    done
    local sorted
    sorted=$(printf '%s\n' "${times[@]}" | sort -g)
    echo "$(echo "$sorted" | sed -n 1p) $(echo "$sorted" | sed -n 2p) $(echo "$out" | awk '{print $1}')"
}

declare -A best median count
run() {  # name command...
    local name=$1; shift
    read -r b m c < <(time3 "$@")
    best[$name]=$b; median[$name]=$m; count[$name]=$c
    printf '%-52s count %9s  best %7.3fs  median %7.3fs  %7.0f MB/s\n' "$name" "$c" "$b" "$m" \
        "$(echo "$bytes / $b / 1000000" | bc -l)"
}

echo "file: $data ($bytes bytes), $(nproc) cores"
one_line=$(mktemp)
head -1 "$data" >"$one_line"
read -r evq_start _ _ < <(time3 evq_count "$one_line" 'message contains "Failed password"')
read -r rg_start _ _ < <(time3 rg -c -F 'Failed password' "$one_line")
rm -f "$one_line"
printf 'process start and exit (a one-line file): evq %.1f ms, rg %.1f ms\n' \
    "$(echo "$evq_start * 1000" | bc -l)" "$(echo "$rg_start * 1000" | bc -l)"
run "grep -F -c 'Failed password'" grep -F -c 'Failed password' "$data"
run "rg -c -F 'Failed password'" rg -c -F 'Failed password' "$data"
run "evq: message contains \"Failed password\"" evq_count "$data" 'message contains "Failed password"'
run "grep -c 'sshd.*Failed'" grep -c 'sshd.*Failed' "$data"
run "rg -c 'sshd.*Failed'" rg -c 'sshd.*Failed' "$data"
run "evq: app == \"sshd\" and message ~ \"Failed\"" evq_count "$data" 'app == "sshd" and message ~ "Failed"'

agree() {  # name-a name-b
    if [ "${count[$1]}" = "${count[$2]}" ]; then
        echo "counts agree: $1 = $2 = ${count[$1]}"
    else
        echo "counts differ: $1 ${count[$1]}, $2 ${count[$2]} (grep/rg also count lines whose header," \
            "not message, holds the pattern; evq matches the message field only)"
    fi
}
echo
agree "grep -F -c 'Failed password'" "evq: message contains \"Failed password\""
agree "rg -c -F 'Failed password'" "evq: message contains \"Failed password\""
agree "grep -c 'sshd.*Failed'" "evq: app == \"sshd\" and message ~ \"Failed\""

ratio() { echo "scale=2; ${best[$2]} / ${best[$1]}" | bc -l; }
echo
substring='evq: message contains "Failed password"'
echo "substring: evq/grep-F $(ratio "$substring" "grep -F -c 'Failed password'")x," \
    "evq/rg $(ratio "$substring" "rg -c -F 'Failed password'")x (speed ratio, >1 = evq faster)"
echo "field:     evq/grep $(ratio "evq: app == \"sshd\" and message ~ \"Failed\"" "grep -c 'sshd.*Failed'")x," \
    "evq/rg $(ratio "evq: app == \"sshd\" and message ~ \"Failed\"" "rg -c 'sshd.*Failed'")x"
echo
echo "longest loop stall (one slice on the reactor):"
for filter in 'message contains "Failed password"' 'app == "sshd" and message ~ "Failed"'; do
    printf '  count %-40s ' "$filter"
    "$EVQ" scan --count --stats --filter "$filter" "$data" 2>&1 >/dev/null
done
printf '  %-46s ' "records (all, printed to /dev/null)"
"$EVQ" scan --stats --filter 'app == "sshd"' "$data" 2>&1 >/dev/null
