#!/usr/bin/env bash
# halo-top's own cost while it records at 1 s with the host collector: CPU time per sample and
# RSS after a run (default 5 minutes), measured from outside (/proc/PID) and compared with what
# halo-top logs about itself (derived.own_cpu_ms_per_sample, host.own_process.rss_bytes).
#
#   benches/self-overhead.sh [DURATION]      e.g. benches/self-overhead.sh 5m
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-5m}
cargo build --release --quiet
bin=target/release/halo-top
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

"$bin" --interval 1s record --duration "$duration" -o "$out/s.ndjson" 2>"$out/stderr" &
pid=$!
# Sample from outside just before the end: utime+stime (clock ticks) and VmRSS.
secs=$(python3 -c "import sys,re;d='$duration';m=re.fullmatch(r'(\d+)([smh]?)',d);print(int(m[1])*{'':1,'s':1,'m':60,'h':3600}[m[2]])")
sleep $((secs - 2))
ticks=$(awk '{print $14+$15}' /proc/$pid/stat)
rss_kib=$(awk '/VmRSS/{print $2}' /proc/$pid/status)
hwm_kib=$(awk '/VmHWM/{print $2}' /proc/$pid/status)
wait $pid
hz=$(getconf CLK_TCK)

python3 - "$out/s.ndjson" "$ticks" "$hz" "$rss_kib" "$hwm_kib" <<'PY'
import json, statistics, sys
path, ticks, hz, rss_kib, hwm_kib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
lines = [json.loads(l) for l in open(path) if l.strip()]
snaps = [l for l in lines if "seq" in l]
per_sample = [s["derived"]["own_cpu_ms_per_sample"] for s in snaps if s["derived"].get("own_cpu_ms_per_sample") is not None]
rss = [s["host"]["own_process"]["rss_bytes"] for s in snaps if s.get("host")]
print(f"snapshots: {len(snaps)} over {snaps[-1]['mono_ms']/1000:.0f} s")
print(f"CPU per sample, from outside: {ticks / hz * 1000 / len(snaps):.2f} ms  ({ticks} ticks at {hz} Hz / {len(snaps)} samples)")
print(f"CPU per sample, self-reported: median {statistics.median(per_sample):.2f} ms, mean {statistics.mean(per_sample):.2f} ms, max {max(per_sample):.2f} ms")
print(f"RSS at the end, from outside: {rss_kib/1024:.1f} MiB (peak {hwm_kib/1024:.1f} MiB); self-reported last {rss[-1]/2**20:.1f} MiB")
print("targets: under 2 ms of CPU per sample, under 25 MB RSS")
PY
