#!/usr/bin/env bash
# The reference decoder against llama.cpp's llama-bench on the very same GGUF files, with a
# STREAM-style read probe, in one run, printed as one table.
#
#   benches/decoder-vs-llama.sh            # ~500 MB models, Q4_0 Q8_0 Q4_K, 1 and 2 threads
#   SIZE=100MB TYPES="q4_0" THREADS="1" REPS=5 benches/decoder-vs-llama.sh
#   HALO=path/halo-top LLAMA_BIN=path/bin THREADS="1 4 8" benches/decoder-vs-llama.sh
#
# The models are synthetic (`halo-top synth`: shapes of TinyLlama-1.1B, layers to fill SIZE,
# random blocks with sane scales), written to a temp dir and deleted afterwards. Decoder and
# llama.cpp runs alternate, REPS times each, and the table shows medians, so both see the same
# background load. Effective GB/s = tok/s × bytes read per token: weights plus KV; for llama.cpp
# the weights at their GGUF size, for the decoder as its kernels stream them (the same, except
# for Q4_K, which candle repacks on x86 into 4/3 of the bytes; that is what the decoder reads).
# Timing needs a quiet machine: the load average is printed before and after. On a shared
# machine, NICE=-10 runs every measured command (both engines and the probe) at that priority.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${SIZE:-500MB}
TYPES=${TYPES:-"q4_0 q8_0 q4_k"}
THREADS=${THREADS:-"1 2"}
TOKENS=${TOKENS:-64}
REPS=${REPS:-3}
NICE=${NICE:-0}
measure() { nice -n "$NICE" "$@"; }

# LLAMA_BIN (llama.cpp's binaries) and HALO (a halo-top binary) skip the install and the build,
# e.g. on a machine without a toolchain or network to which both were copied.
llama_bin=${LLAMA_BIN:-$(.ci/install-llama-server)}
halo=${HALO:-target/release/halo-top}
[ -n "${HALO:-}" ] || cargo build --release --quiet
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)   (nice $NICE, $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))" >&2

for t in $TYPES; do
  "$halo" synth "$tmp/$t.gguf" --synthetic "$SIZE:$t" 2>&1 | sed 's/^/  /' >&2
done

for th in $THREADS; do
  # STREAM read with the same thread count (1 GiB, best of 10 per thread).
  measure "$halo" bench --synthetic 16MB:q8_0 --threads "$th" --tokens 1 --stream --json > "$tmp/stream-$th.json"
  for t in $TYPES; do
    for r in $(seq "$REPS"); do
      measure "$halo" bench --model "$tmp/$t.gguf" --threads "$th" --tokens "$TOKENS" --json > "$tmp/ours-$t-$th-$r.json"
      measure "$llama_bin/llama-bench" -m "$tmp/$t.gguf" -t "$th" -p 0 -n "$TOKENS" -r 1 -o json \
        > "$tmp/llama-$t-$th-$r.json" 2> "$tmp/llama-$t-$th-$r.log"
    done
  done
done
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)" >&2

python3 - "$tmp" "$TYPES" "$THREADS" "$REPS" <<'PY'
import json, statistics, sys
tmp, types, threads, reps = sys.argv[1], sys.argv[2].split(), sys.argv[3].split(), int(sys.argv[4])
load = lambda p: json.load(open(p))
print("| type | thr | MB/token (file) | decoder tok/s | llama.cpp tok/s | decoder / llama.cpp | decoder GB/s | llama.cpp GB/s | STREAM read GB/s | decoder / STREAM | llama.cpp / STREAM |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for th in threads:
    stream = load(f"{tmp}/stream-{th}.json")["stream_read_gb_s"]
    for t in types:
        ours = [load(f"{tmp}/ours-{t}-{th}-{r}.json") for r in range(1, reps + 1)]
        theirs = [load(f"{tmp}/llama-{t}-{th}-{r}.json")[0]["avg_ts"] for r in range(1, reps + 1)]
        o = statistics.median(x["decode_tok_s"] for x in ours)
        l = statistics.median(theirs)
        streamed = statistics.median(x["bytes_per_token"] for x in ours)
        nominal = statistics.median(x["file_bytes_per_token"] for x in ours)
        o_gb, l_gb = o * streamed / 1e9, l * nominal / 1e9
        note = f" (reads {streamed/1e6:.0f})" if abs(streamed - nominal) > 1e6 else ""
        print(f"| {t.upper()} | {th} | {nominal/1e6:.0f}{note} | {o:.2f} | {l:.2f} | {o/l:.2f} | {o_gb:.2f} | {l_gb:.2f} | {stream:.2f} | {o_gb/stream:.2f} | {l_gb/stream:.2f} |")
PY
