#!/usr/bin/env python3
"""A GPU load for recording NVIDIA sessions: bf16 matrix products with PyTorch that ramp up
(rising duty cycle), hold the GPU busy, then stop, so that power, clocks, utilisation and
temperature all move.

    python3 scripts/gpu-load.py --ramp 45 --hold 90
"""
import argparse
import time

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ramp", type=float, default=45.0, help="seconds of rising load")
    ap.add_argument("--hold", type=float, default=90.0, help="seconds of full load")
    ap.add_argument("--size", type=int, default=8192)
    args = ap.parse_args()
    a = torch.randn(args.size, args.size, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(args.size, args.size, device="cuda", dtype=torch.bfloat16)
    flop = 2 * args.size**3
    start = time.time()
    done = 0
    while (t := time.time() - start) < args.ramp + args.hold:
        duty = min(1.0, t / args.ramp) if args.ramp > 0 else 1.0
        # Busy for duty x 100 ms, idle for the rest of each 100 ms slot.
        slot_end = time.time() + 0.1
        busy_until = time.time() + 0.1 * duty
        while time.time() < busy_until:
            for _ in range(8):
                a @ b
            torch.cuda.synchronize()
            done += 8
        time.sleep(max(0.0, slot_end - time.time()))
        if int(t) % 15 == 0 and int(t) != int(t - 0.1):
            print(f"t={t:5.1f}s duty={duty:4.2f} {done * flop / t / 1e12:7.1f} TFLOP/s mean", flush=True)
    print(f"done: {done} products in {time.time() - start:.1f} s", flush=True)


if __name__ == "__main__":
    main()
