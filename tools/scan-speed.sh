#!/usr/bin/env bash
# Scan speed, warm page cache, same run: LogQuery's count mode against grep and ripgrep.
# Usage: tools/scan-speed.sh [SIZE_BYTES]   (default 1 GiB; the file is cached in /tmp)
# Needs ripgrep (tools/install-deps.sh ripgrep) and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1073741824}
data=${SCAN_SPEED_FILE:-/tmp/evq-scan-speed-$size.log}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ ! -s "$data" ]; then
    echo "generating $data ($size bytes)..." >&2
    python3 tools/scan-speed/generate.py "$data.tmp" "$size"
    mv "$data.tmp" "$data"
fi
command -v rg >/dev/null || tools/install-deps.sh ripgrep

# Build the driver: LogQuery's sources + the CSystemShims C file, release, no Package.swift change.
clang -O2 -c Sources/CSystemShims/shims.c -I Sources/CSystemShims/include -o "$work/shims.o"
mkdir -p "$work/module"
cat > "$work/module/module.modulemap" <<MAP
module CSystemShims {
    header "$PWD/Sources/CSystemShims/include/CSystemShims.h"
    export *
}
MAP
swiftc -O -wmo -parse-as-library -module-name LogQuery -emit-library -static -emit-module \
    -emit-module-path "$work/LogQuery.swiftmodule" -I "$work/module" \
    Sources/LogQuery/*.swift -o "$work/libLogQuery.a"
swiftc -O -I "$work" -I "$work/module" tools/scan-speed/main.swift "$work/libLogQuery.a" "$work/shims.o" -lz \
    -o "$work/scan-speed"

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
run "grep -F -c 'Failed password'" grep -F -c 'Failed password' "$data"
run "rg -c -F 'Failed password'" rg -c -F 'Failed password' "$data"
run "evq: message contains \"Failed password\"" "$work/scan-speed" "$data" 'message contains "Failed password"'
run "evq (mmap): message contains \"Failed password\"" "$work/scan-speed" "$data" 'message contains "Failed password"' mmap
run "grep -c 'sshd.*Failed'" grep -c 'sshd.*Failed' "$data"
run "rg -c 'sshd.*Failed'" rg -c 'sshd.*Failed' "$data"
run "evq: app == \"sshd\" and message ~ \"Failed\"" "$work/scan-speed" "$data" 'app == "sshd" and message ~ "Failed"'
run "evq (mmap): app == \"sshd\" and message ~ \"Failed\"" "$work/scan-speed" "$data" \
    'app == "sshd" and message ~ "Failed"' mmap

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
agree "rg -c -F 'Failed password'" "evq (mmap): message contains \"Failed password\""
agree "grep -c 'sshd.*Failed'" "evq: app == \"sshd\" and message ~ \"Failed\""

ratio() { echo "scale=2; ${best[$2]} / ${best[$1]}" | bc -l; }
echo
echo "substring: evq/grep-F $(ratio "evq: message contains \"Failed password\"" "grep -F -c 'Failed password'")x," \
    "evq/rg $(ratio "evq: message contains \"Failed password\"" "rg -c -F 'Failed password'")x (speed ratio, >1 = evq faster)"
echo "field:     evq/grep $(ratio "evq: app == \"sshd\" and message ~ \"Failed\"" "grep -c 'sshd.*Failed'")x," \
    "evq/rg $(ratio "evq: app == \"sshd\" and message ~ \"Failed\"" "rg -c 'sshd.*Failed'")x"
echo "with mmap: substring evq/rg $(ratio "evq (mmap): message contains \"Failed password\"" "rg -c -F 'Failed password'")x," \
    "field evq/grep $(ratio "evq (mmap): app == \"sshd\" and message ~ \"Failed\"" "grep -c 'sshd.*Failed'")x," \
    "evq/rg $(ratio "evq (mmap): app == \"sshd\" and message ~ \"Failed\"" "rg -c 'sshd.*Failed'")x"
