# Sourced (not run) by the tools scripts that start DNS servers and load them: the pieces they share.
# shellcheck shell=bash

# parse_load_flags "$@": sets duration, clients, outstanding and rounds from --duration S, --clients C,
# --outstanding Q and --rounds R over the defaults the caller set; anything else: usage, exit 2.
parse_load_flags() {
    while [ $# -gt 0 ]; do
        case $1 in
        --duration) duration=$2; shift 2 ;;
        --clients) clients=$2; shift 2 ;;
        --outstanding) outstanding=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        *) echo "usage: $0 [--duration S] [--clients C] [--outstanding Q] [--rounds R]" >&2; exit 2 ;;
        esac
    done
}

# watch_parent WATCH_PID PID NAME: a detached watchdog (setsid: it outlives the caller and its process
# group) that polls once a second and stops PID (TERM, then KILL after 2 s) once WATCH_PID has exited,
# however it ended: a test process that crashes before its own `stop` leaves no server behind.
watch_parent() {
    setsid bash -c 'while kill -0 "$1" 2>/dev/null; do kill -0 "$2" 2>/dev/null || exit 0; sleep 1; done
      kill "$2" 2>/dev/null || exit 0
      for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$2" 2>/dev/null || exit 0; sleep 0.2; done
      kill -9 "$2" 2>/dev/null' "$3" "$1" "$2" </dev/null >/dev/null 2>&1 &
}

# stop_pid PID: TERM, then KILL if it is still there after 5 s.
stop_pid() {
    if kill -0 "$1" 2>/dev/null; then
        kill "$1"
        for _ in $(seq 1 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$1" 2>/dev/null; then kill -9 "$1"; fi
    fi
}
