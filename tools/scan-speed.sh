#!/usr/bin/env bash
# Scan speed, warm page cache, same run: `evq scan --count` (LogQuery's count mode, in slices on a
# reactor) against grep and ripgrep, and printing the matching records to a pipe against
# `rg -F … | wc -l` (default and raw output); then the longest loop stall a scan caused (`--stats`).
# Usage: tools/scan-speed.sh [SIZE_BYTES]   (default 1 GiB; the file is cached in /tmp)
#        EVQ=path/to/evq tools/scan-speed.sh   (skip the release build)
#        SCAN_SPEED_ONLY=print tools/scan-speed.sh   (only the printing commands and ratios)
#        SCAN_SPEED_ONLY=regex tools/scan-speed.sh   (only the regex count: `~` on many lines, one thread)
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
# evq_count FILE FILTER [THREADS]: evq's count (its default --count-threads: the cores, at most 4)
evq_count() { "$EVQ" scan --count --filter "$2" ${3:+--count-threads "$3"} "$1"; }

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
# The timed commands, run in interleaved rounds (each round runs every command once), so that
# a machine whose speed drifts during the run (a shared VM) weighs on every tool alike.
names=(
    "grep -F -c 'Failed password'"
    "rg -c -F 'Failed password'"
    "evq: message contains \"Failed password\""
    "grep -c 'sshd.*Failed'"
    "rg -c 'sshd.*Failed'"
    "evq: app == \"sshd\" and message ~ \"Failed\""
    "evq, 1 thread: message contains \"Failed password\""
    "evq, 1 thread: app == \"sshd\" and message ~ \"Failed\""
    "rg -F 'Failed password' | wc -l"
    "evq print: message contains \"Failed password\" | wc -l"
    "evq print --output raw | wc -l"
    "grep -cE 'port [0-9]+ ssh2\$'"
    "rg -c 'port [0-9]+ ssh2\$'"
    "evq, 1 thread: message ~ \"port [0-9]+ ssh2\$\""
)
command_of() {  # index
    case $1 in
    0) grep -F -c 'Failed password' "$data" ;;
    1) rg -c -F 'Failed password' "$data" ;;
    2) evq_count "$data" 'message contains "Failed password"' ;;
    3) grep -c 'sshd.*Failed' "$data" ;;
    4) rg -c 'sshd.*Failed' "$data" ;;
    5) evq_count "$data" 'app == "sshd" and message ~ "Failed"' ;;
    6) evq_count "$data" 'message contains "Failed password"' 1 ;;
    7) evq_count "$data" 'app == "sshd" and message ~ "Failed"' 1 ;;
    8) rg -F 'Failed password' "$data" | wc -l ;;
    9) "$EVQ" scan --filter 'message contains "Failed password"' "$data" | wc -l ;;
    10) "$EVQ" scan --output raw --filter 'message contains "Failed password"' "$data" 2>/dev/null | wc -l ;;
    11) grep -cE 'port [0-9]+ ssh2$' "$data" ;;
    12) rg -c 'port [0-9]+ ssh2$' "$data" ;;
    13) evq_count "$data" 'message ~ "port [0-9]+ ssh2$"' 1 ;;
    esac
}

echo "file: $data ($bytes bytes), $(nproc) cores"
one_line=$(mktemp)
head -1 "$data" >"$one_line"
read -r evq_start _ _ < <(time3 evq_count "$one_line" 'message contains "Failed password"')
read -r rg_start _ _ < <(time3 rg -c -F 'Failed password' "$one_line")
rm -f "$one_line"
printf 'process start and exit (a one-line file): evq %.1f ms, rg %.1f ms\n' \
    "$(echo "$evq_start * 1000" | bc -l)" "$(echo "$rg_start * 1000" | bc -l)"
rounds=${SCAN_SPEED_ROUNDS:-5}
echo "$rounds interleaved rounds; best and median wall-clock time of each command"
declare -A times
selected=("${!names[@]}")
[ "${SCAN_SPEED_ONLY:-}" = print ] && selected=(8 9 10)
[ "${SCAN_SPEED_ONLY:-}" = regex ] && selected=(11 12 13)
for _ in $(seq 1 "$rounds"); do
    for index in "${selected[@]}"; do
        t0=$(date +%s.%N)
        out=$(command_of "$index" || true)
        t1=$(date +%s.%N)
        times[$index]+="$(echo "$t1 - $t0" | bc -l) "
        count[${names[$index]}]=$(echo "$out" | awk '{print $1}')
    done
done
for index in "${selected[@]}"; do
    name=${names[$index]}
    sorted=$(tr ' ' '\n' <<<"${times[$index]}" | grep -v '^$' | sort -g)
    best[$name]=$(sed -n 1p <<<"$sorted")
    median[$name]=$(sed -n "$(( (rounds + 1) / 2 ))p" <<<"$sorted")
    printf '%-52s count %9s  best %7.3fs  median %7.3fs  %7.0f MB/s\n' "$name" "${count[$name]}" \
        "${best[$name]}" "${median[$name]}" "$(echo "$bytes / ${best[$name]} / 1000000" | bc -l)"
done

agree() {  # name-a name-b
    if [ "${count[$1]}" = "${count[$2]}" ]; then
        echo "counts agree: $1 = $2 = ${count[$1]}"
    else
        echo "counts differ: $1 ${count[$1]}, $2 ${count[$2]} (grep/rg also count lines whose header," \
            "not message, holds the pattern; evq matches the message field only)"
    fi
}
# speed ratio evq/peer (>1 = evq faster), from the best times and from the medians
ratio() { echo "$(echo "scale=2; ${best[$2]} / ${best[$1]}" | bc -l)x (median $(echo "scale=2; ${median[$2]} / ${median[$1]}" | bc -l)x)"; }
regex='evq, 1 thread: message ~ "port [0-9]+ ssh2$"'
if [ -n "${times[13]:-}" ]; then
    echo
    agree "grep -cE 'port [0-9]+ ssh2\$'" "$regex"
    echo "regex on many lines, one thread: evq/grep-E $(ratio "$regex" "grep -cE 'port [0-9]+ ssh2\$'")," \
        "evq/rg $(ratio "$regex" "rg -c 'port [0-9]+ ssh2\$'")"
fi
[ "${SCAN_SPEED_ONLY:-}" = regex ] && exit 0
echo
echo "printing the matching records to a pipe (evq's count is lines: the records and its bookmark line):"
echo "default output: evq/rg $(ratio "evq print: message contains \"Failed password\" | wc -l" "rg -F 'Failed password' | wc -l")"
echo "--output raw:   evq/rg $(ratio "evq print --output raw | wc -l" "rg -F 'Failed password' | wc -l")"
[ "${SCAN_SPEED_ONLY:-}" = print ] && exit 0
echo
agree "grep -F -c 'Failed password'" "evq: message contains \"Failed password\""
agree "rg -c -F 'Failed password'" "evq: message contains \"Failed password\""
agree "grep -c 'sshd.*Failed'" "evq: app == \"sshd\" and message ~ \"Failed\""

echo
substring='evq: message contains "Failed password"'
field='evq: app == "sshd" and message ~ "Failed"'
echo "substring: evq/grep-F $(ratio "$substring" "grep -F -c 'Failed password'")," \
    "evq/rg $(ratio "$substring" "rg -c -F 'Failed password'")"
echo "field:     evq/grep $(ratio "$field" "grep -c 'sshd.*Failed'"), evq/rg $(ratio "$field" "rg -c 'sshd.*Failed'")"
echo "one thread (--count-threads 1; rg counts one file on one thread):"
echo "substring: evq/rg $(ratio "evq, 1 thread: message contains \"Failed password\"" "rg -c -F 'Failed password'")"
echo "field:     evq/rg $(ratio "evq, 1 thread: app == \"sshd\" and message ~ \"Failed\"" "rg -c 'sshd.*Failed'")"
echo
echo "longest loop stall (one slice on the reactor):"
for filter in 'message contains "Failed password"' 'app == "sshd" and message ~ "Failed"'; do
    printf '  count %-40s ' "$filter"
    "$EVQ" scan --count --stats --filter "$filter" "$data" 2>&1 >/dev/null
done
printf '  %-46s ' "records (all, printed to /dev/null)"
"$EVQ" scan --stats --filter 'app == "sshd"' "$data" 2>&1 >/dev/null
