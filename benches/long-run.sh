#!/usr/bin/env bash
# The long-run check (issue 11), outside CI: a soak with every collector on for 60 minutes
# (default) at 1 s — host from /proc, amdgpu from the Strix Halo load fixture tree, NVML
# (unavailable without a driver), a real llama-server on a tiny generated model driven by the
# llama:chat load generator, and the roofline from the model's header. Every minute it samples
# halo-top's VmRSS (and its anonymous and file-backed parts) and open file descriptors from
# /proc/PID, and the load average. At the end it
# checks: RSS grows by less than 1 MB after warm-up, the fd count does not grow, and no snapshot
# came more than 10 % of an interval late (wall-clock spacing) or was skipped (seq / mono gaps).
#
#   benches/long-run.sh [DURATION] [WARMUP]      e.g. benches/long-run.sh 60m 5m
#
# HALO_TOP_BIN uses an already built binary instead of building one, HALO_TOP_LONG_RUN_MODEL a
# GGUF file instead of the generated tiny target (Q8_0); the sampled figures and
# the session are left in $HALO_TOP_LONG_RUN_DIR (default: a temporary directory, printed).
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-60m}
warmup=${2:-5m}
out=${HALO_TOP_LONG_RUN_DIR:-$(mktemp -d)}
mkdir -p "$out"
echo "long-run: writing to $out" >&2

if [ -z "${HALO_TOP_BIN:-}" ]; then
  cargo build --release --quiet --bin halo-top
  HALO_TOP_BIN=target/release/halo-top
fi
model=${HALO_TOP_LONG_RUN_MODEL:-$(cargo run --release --quiet --example tiny_models -- "$out/models")}
llama_dir=$(.ci/install-llama-server)
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')

"$llama_dir/llama-server" --host 127.0.0.1 --port "$port" -t 1 -c 4096 --metrics -m "$model" \
  >/dev/null 2>"$out/llama-server.log" &
server=$!
cleanup() { kill "$server" 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 600); do
  python3 -c "import urllib.request;urllib.request.urlopen('http://127.0.0.1:$port/health',timeout=1)" 2>/dev/null && break
  sleep 0.1
done

"$HALO_TOP_BIN" --interval 1s --sysfs-root fixtures/sysfs/strix-halo-load \
  --llama "http://127.0.0.1:$port" --workload llama:chat --model "$model" \
  soak --duration "$duration" --warmup "$warmup" --progress 5m -o "$out/session.ndjson" \
  >"$out/verdict.txt" 2>"$out/stderr" &
pid=$!

# Every minute while halo-top runs: its VmRSS and, within it, RssAnon (heap, stacks: where a
# leak shows) and RssFile (pages of the binary and libraries, which grow as code first runs),
# in kB; open fds; the 1-minute load average.
printf 'minute\trss_kb\tanon_kb\tfile_kb\tfds\tload1\n' >"$out/samples.tsv"
start=$(date +%s)
minute=0
while kill -0 "$pid" 2>/dev/null; do
  mem=$(awk '/^VmRSS/{r=$2} /^RssAnon/{a=$2} /^RssFile/{f=$2} END{if (r) print r "\t" a "\t" f}' \
    "/proc/$pid/status" 2>/dev/null) || break
  fds=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)
  [ -n "$mem" ] && printf '%s\t%s\t%s\t%s\n' "$minute" "$mem" "$fds" "$(cut -d' ' -f1 /proc/loadavg)" >>"$out/samples.tsv"
  minute=$((minute + 1))
  while kill -0 "$pid" 2>/dev/null && [ "$(date +%s)" -lt $((start + 60 * minute)) ]; do sleep 1; done
done
wait "$pid"

python3 - "$out" "$warmup" <<'PY'
import json, re, statistics, sys
out, warmup = sys.argv[1], sys.argv[2]
m = re.fullmatch(r"(\d+)([smh]?)", warmup)
warmup_min = int(m[1]) * {"": 1, "s": 1, "m": 60, "h": 3600}[m[2]] / 60
rows = [l.split("\t") for l in open(f"{out}/samples.tsv").read().split("\n")[1:] if l]
samples = [(int(a), int(b), int(c), int(d), int(e), float(f)) for a, b, c, d, e, f in rows]
after = [s for s in samples if s[0] >= warmup_min]
ok = True
print(f"{len(samples)} samples, one a minute; after the {warmup} warm-up: {len(after)}")
print("minute  RSS (MiB)  anon (MiB)  file (MiB)  fds  load1")
for mi, rss, anon, filed, fds, load in samples:
    print(f"{mi:6d}  {rss / 1024:9.2f}  {anon / 1024:10.2f}  {filed / 1024:10.2f}  {fds:3d}  {load:5.2f}")
if len(after) >= 2:
    growth_kb = after[-1][1] - after[0][1]
    spread_kb = max(s[1] for s in after) - min(s[1] for s in after)
    fd_growth = after[-1][4] - after[0][4]
    print(f"RSS after warm-up: first {after[0][1]} kB, last {after[-1][1]} kB, growth {growth_kb} kB, "
          f"max-min {spread_kb} kB (limit: growth under 1024 kB)")
    print(f"  of which anonymous: {after[-1][2] - after[0][2]} kB, file-backed: {after[-1][3] - after[0][3]} kB")
    print(f"fds after warm-up: first {after[0][4]}, last {after[-1][4]}, max {max(s[4] for s in after)}")
    ok &= growth_kb < 1024 and fd_growth <= 0
else:
    print("too few samples after warm-up to judge RSS and fds"); ok = False
loads = [s[5] for s in samples]
print(f"load average (1 min) while it ran: mean {statistics.mean(loads):.2f}, max {max(loads):.2f} on {__import__('os').cpu_count()} CPUs")

snaps, header = [], None
for line in open(f"{out}/session.ndjson"):
    d = json.loads(line)
    if "header" in d: header = d["header"]
    elif "seq" in d: snaps.append(d)
interval = header["interval_ms"]
seq_gaps = sum(b["seq"] - a["seq"] - 1 for a, b in zip(snaps, snaps[1:]))
mono = [b["mono_ms"] - a["mono_ms"] for a, b in zip(snaps, snaps[1:])]
wall = [b["ts_unix_ms"] - a["ts_unix_ms"] for a, b in zip(snaps, snaps[1:])]
late = [w for w in wall if w > interval * 1.1]
skipped = [g for g in mono if g > interval * 1.1]
print(f"snapshots: {len(snaps)} at {interval} ms; seq gaps {seq_gaps}; skipped ticks (mono gap > 110 %) {len(skipped)}")
print(f"wall-clock spacing: min {min(wall)} ms, median {statistics.median(wall)} ms, max {max(wall)} ms; "
      f"over 110 % of the interval: {len(late)}")
ok &= seq_gaps == 0 and not skipped and not late
for name in [x["name"] for x in snaps[-1]["sources"]]:
    states = [x["status"]["state"] for s in snaps for x in s["sources"] if x["name"] == name]
    print(f"source {name}: " + ", ".join(f"{st} {states.count(st)}" for st in sorted(set(states))))
print("PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
PY
