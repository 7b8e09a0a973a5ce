#!/usr/bin/env python3
"""Checks halo-top's NVIDIA readings against nvidia-smi on a machine with an NVIDIA GPU.

    python3 scripts/nvidia-check.py [path/to/halo-top]

It reads `nvidia-smi -q -x` just before and just after `halo-top snapshot --json` (which takes
about two sample intervals), prints every field side by side, and exits 1 on disagreement.

Tolerances, and why:
- facts that do not change (name, UUID, bus id, driver, memory total, maximum clocks,
  temperature thresholds, power limit): exact, up to nvidia-smi's printed precision
  (MiB for memory, 0.01 W for power);
- live readings (utilisation, temperature, power, clocks, memory used, P-state, PCIe link):
  the GPU moves during the ~1.5 s between the reads, so halo-top's value must lie within the
  range of the two nvidia-smi reads, widened by: utilisation 10 points (both are averages over
  the driver's last sample period, which the reads do not share), temperature 2 °C, power 10 %
  + 5 W (power_draw is a ~1 s average that changes step by step under a ramping load), clocks
  5 % (boost clocks move in 15 MHz steps every few ms), memory used 64 MiB.
"""
import json
import subprocess
import sys
import xml.etree.ElementTree as ET

halo_top = sys.argv[1] if len(sys.argv) > 1 else "halo-top"


def smi():
    xml = subprocess.run(["nvidia-smi", "-q", "-x"], check=True, capture_output=True, text=True).stdout
    return ET.fromstring(xml)


def text(node, *paths):
    """The first path that exists and is not N/A, as text."""
    for path in paths:
        found = node.find(path)
        if found is not None and found.text and found.text.strip() not in ("N/A", "[N/A]", ""):
            return found.text.strip()
    return None


def number(node, *paths):
    t = text(node, *paths)
    if t is None:
        return None
    try:
        return float(t.split()[0].rstrip("x%"))
    except ValueError:
        return None


def thresholds(gpu):
    """Slowdown and shutdown temperatures. Older drivers print them as absolute temperatures;
    driver 580 prints them relative to T.Limit ("GPU Slowdown T.Limit Temp: -2 C", with the
    current margin "GPU T.Limit Temp: 51 C"), so the absolute value is temp + margin - offset."""
    slow = number(gpu, "temperature/gpu_temp_slow_threshold")
    shut = number(gpu, "temperature/gpu_temp_max_threshold")
    temp = gpu.find("temperature")
    tags = {c.tag: number(temp, c.tag) for c in temp} if temp is not None else {}
    margin = next((v for t, v in tags.items() if "tlimit" in t and "slow" not in t and "max" not in t
                   and "shutdown" not in t), None)
    current = number(gpu, "temperature/gpu_temp")
    rel_slow = next((v for t, v in tags.items() if "tlimit" in t and "slow" in t), None)
    rel_shut = next((v for t, v in tags.items() if "tlimit" in t and ("shutdown" in t or "max_tlimit" in t)), None)
    if slow is None and None not in (margin, current, rel_slow):
        slow = current + margin - rel_slow
    if shut is None and None not in (margin, current, rel_shut):
        shut = current + margin - rel_shut
    return {"temp_slowdown_c": slow, "temp_shutdown_c": shut, "_temperature_tags": tags}


def smi_fields(root):
    out = {}
    for gpu in root.findall("gpu"):
        bus = gpu.get("id", "").lower()
        bus = bus[-12:] if len(bus) > 12 else bus  # 00000000:1a:00.0 -> 0000:1a:00.0
        mib = lambda *p: None if number(gpu, *p) is None else number(gpu, *p)
        out[bus] = {
            "name": text(gpu, "product_name"),
            "uuid": text(gpu, "uuid"),
            "driver_version": text(root, "driver_version"),
            "cuda_driver_version": text(root, "cuda_version"),
            "vram_total_mib": mib("fb_memory_usage/total"),
            "vram_used_mib": mib("fb_memory_usage/used"),
            "vram_reserved_mib": mib("fb_memory_usage/reserved"),
            "gpu_busy_percent": number(gpu, "utilization/gpu_util"),
            "memory_busy_percent": number(gpu, "utilization/memory_util"),
            "temp_c": number(gpu, "temperature/gpu_temp"),
            **thresholds(gpu),
            "power_w": number(gpu, "gpu_power_readings/power_draw", "gpu_power_readings/instant_power_draw",
                              "power_readings/power_draw"),
            "power_limit_w": number(gpu, "gpu_power_readings/current_power_limit",
                                    "gpu_power_readings/enforced_power_limit", "power_readings/enforced_power_limit"),
            "graphics_clock_mhz": number(gpu, "clocks/graphics_clock"),
            "sm_clock_mhz": number(gpu, "clocks/sm_clock"),
            "memory_clock_mhz": number(gpu, "clocks/mem_clock"),
            "graphics_clock_max_mhz": number(gpu, "max_clocks/graphics_clock"),
            "sm_clock_max_mhz": number(gpu, "max_clocks/sm_clock"),
            "memory_clock_max_mhz": number(gpu, "max_clocks/mem_clock"),
            "performance_state": text(gpu, "performance_state"),
            "pcie_gen": number(gpu, "pci/pci_gpu_link_info/pcie_gen/current_link_gen"),
            "pcie_width": number(gpu, "pci/pci_gpu_link_info/link_widths/current_link_width"),
        }
    return out


def halo_fields(device, section):
    mib = lambda b: None if b is None else b / 2**20
    return {
        "name": device.get("name"),
        "uuid": device.get("uuid"),
        "driver_version": section.get("driver_version"),
        "cuda_driver_version": section.get("cuda_driver_version"),
        "vram_total_mib": mib(device.get("vram_total_bytes")),
        "vram_used_mib": mib(device.get("vram_used_bytes")),
        "vram_reserved_mib": mib(device.get("vram_reserved_bytes")),
        **{k: device.get(k) for k in [
            "gpu_busy_percent", "memory_busy_percent", "temp_c", "temp_slowdown_c", "temp_shutdown_c", "power_w",
            "power_limit_w", "graphics_clock_mhz", "sm_clock_mhz", "memory_clock_mhz", "graphics_clock_max_mhz",
            "sm_clock_max_mhz", "memory_clock_max_mhz", "performance_state", "pcie_gen", "pcie_width"]},
    }


EXACT = {"name", "uuid", "driver_version", "cuda_driver_version",
         "graphics_clock_max_mhz", "sm_clock_max_mhz", "memory_clock_max_mhz"}
ROUNDED = {"vram_total_mib": 1.0, "vram_reserved_mib": 1.0, "power_limit_w": 0.01}
LIVE = {  # field: (absolute, relative) widening of the before/after range
    "gpu_busy_percent": (10, 0), "memory_busy_percent": (10, 0), "temp_c": (2, 0), "power_w": (5, 0.10),
    "graphics_clock_mhz": (0, 0.05), "sm_clock_mhz": (0, 0.05), "memory_clock_mhz": (0, 0.05),
    "vram_used_mib": (64, 0), "pcie_gen": (0, 0), "pcie_width": (0, 0),
    # Exact when printed absolute; derived from T.Limit margins they carry the 1 °C steps of
    # the current temperature and the margin, read at slightly different moments.
    "temp_slowdown_c": (2, 0), "temp_shutdown_c": (2, 0),
}


def agree(field, ours, before, after):
    if field == "performance_state":
        return ours in (before, after)
    if before is None and after is None:
        return ours is None  # nvidia-smi says N/A: halo-top must not invent a value
    if ours is None:
        return False
    if field in EXACT:
        return ours == before or ours == after or str(ours) == str(before)
    if field in ROUNDED:
        return min(abs(ours - v) for v in (before, after) if v is not None) <= ROUNDED[field] + 1e-9
    absolute, relative = LIVE[field]
    values = [v for v in (before, after) if v is not None]
    lo, hi = min(values), max(values)
    slack = absolute + relative * hi
    return lo - slack <= ours <= hi + slack


def main():
    before = smi_fields(smi())
    snap = json.loads(subprocess.run([halo_top, "--interval", "500ms", "snapshot", "--json"], check=True,
                                     capture_output=True, text=True).stdout)
    after = smi_fields(smi())
    section = snap.get("nvidia")
    status = next(s for s in snap["sources"] if s["name"] == "nvidia")
    if section is None:
        print(f"halo-top has no NVIDIA section: {status}")
        return 1
    failures = 0
    for device in section["devices"]:
        bus = device.get("pci_bus_id")
        ours = halo_fields(device, section)
        b, a = before.get(bus, {}), after.get(bus, {})
        print(f"GPU {device['index']} {bus} ({ours['name']}); nvidia-smi temperature tags: {b.get('_temperature_tags')}")
        print(f"  {'field':24} {'halo-top':>22} {'smi before':>22} {'smi after':>22}  ok")
        for field, value in ours.items():
            ok = agree(field, value, b.get(field), a.get(field))
            failures += not ok
            show = lambda v: "n/a" if v is None else (f"{v:.2f}" if isinstance(v, float) else str(v))
            print(f"  {field:24} {show(value):>22} {show(b.get(field)):>22} {show(a.get(field)):>22}  "
                  f"{'yes' if ok else 'NO'}")
        print(f"  throttle_reasons: {device.get('throttle_reasons')}  fans: {device.get('fan_percent')}  "
              f"processes: {[(p['pid'], p.get('name'), p.get('vram_used_bytes'), p.get('gpu_busy_percent')) for p in device.get('processes', [])]}")
    print(f"{failures} disagreement(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
