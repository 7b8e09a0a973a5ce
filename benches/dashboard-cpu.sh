#!/usr/bin/env bash
# The dashboard's steady CPU use at a 1 s interval, next to btop doing the same job at the same
# time: both run in a real terminal (tmux, 160×45) for DURATION (default 3m) after a 15 s
# warm-up, and their CPU time (utime + stime of /proc/PID/stat) over that stretch is turned into
# % of one core. Prints the load average too: other programs on the machine slow both down.
#
#   benches/dashboard-cpu.sh [DURATION]      e.g. benches/dashboard-cpu.sh 5m
#
# Needs tmux and btop (Debian: apt-get install btop). btop reads its interval from its config
# file; a private one (update_ms = 1000, its default is 2000) keeps the comparison fair.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-3m}
secs=$(python3 -c "import re;m=re.fullmatch(r'(\d+)([smh]?)','$duration');print(int(m[1])*{'':1,'s':1,'m':60,'h':3600}[m[2]])")
command -v btop >/dev/null || { echo "btop is not installed (apt-get install btop)" >&2; exit 1; }
command -v tmux >/dev/null || { echo "tmux is not installed (apt-get install tmux)" >&2; exit 1; }
cargo build --release --quiet
bin=$(pwd)/target/release/halo-top

work=$(mktemp -d)
socket="halo-top-cpu-$$"
cleanup() { tmux -L "$socket" kill-server 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/config/btop"
printf 'update_ms = 1000\n' > "$work/config/btop/btop.conf"

# Each in its own window of a private tmux server; `exec` makes the pane's pid the program's.
tmux -L "$socket" new-session -d -s bench -x 160 -y 45 -n halo-top \
    "exec env TERM=xterm-256color $bin --interval 1s"
tmux -L "$socket" new-window -t bench -n btop \
    "exec env TERM=xterm-256color LANG=C.UTF-8 XDG_CONFIG_HOME=$work/config btop --utf-force"
pid_of() { tmux -L "$socket" display -p -t "bench:$1" '#{pane_pid}'; }
halo_pid=$(pid_of halo-top)
btop_pid=$(pid_of btop)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

sleep 15
t0=$(date +%s.%N); h0=$(ticks "$halo_pid"); b0=$(ticks "$btop_pid")
sleep "$secs"
t1=$(date +%s.%N); h1=$(ticks "$halo_pid"); b1=$(ticks "$btop_pid")
rss() { awk '/VmRSS/{printf "%.1f MiB", $2/1024}' "/proc/$1/status"; }
halo_rss=$(rss "$halo_pid"); btop_rss=$(rss "$btop_pid")
# The dashboard really drew: its screen shows the panes and the host source.
tmux -L "$socket" capture-pane -p -t bench:halo-top | grep -q "Throughput" \
    || { echo "the dashboard did not draw" >&2; exit 1; }

hz=$(getconf CLK_TCK)
python3 - "$t0" "$t1" "$h0" "$h1" "$b0" "$b1" "$hz" "$halo_rss" "$btop_rss" <<'PY'
import sys
t0, t1, h0, h1, b0, b1, hz = map(float, sys.argv[1:8])
wall = t1 - t0
for name, a, b, rss in [("halo-top", h0, h1, sys.argv[8]), ("btop", b0, b1, sys.argv[9])]:
    cpu_s = (b - a) / hz
    print(f"{name:9} {cpu_s:6.2f} s CPU in {wall:.0f} s = {cpu_s / wall * 100:5.2f} % of one core, RSS {rss}")
PY
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
echo "target: halo-top under 0.5 % of one core"
