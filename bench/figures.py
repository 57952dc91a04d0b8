"""Printing benchmark figures with the machine they come from."""

from __future__ import annotations

import os
import platform
import sys

import telegram


def machine() -> str:
    """Cores, load, Python and PTB: figures mean little without them."""
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"{os.cpu_count()} cores ({platform.machine()}), load average {load}; "
        f"Python {sys.version.split()[0]}, python-telegram-bot {telegram.__version__}"
    )


def percentile(samples: list[float], share: float) -> float:
    """Nearest-rank percentile; NaN for no samples."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    rank = max(1, round(share * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def latency(samples: list[float]) -> str:
    """p50 and p99 in milliseconds."""
    return (
        f"p50 {percentile(samples, 0.5) * 1000:7.1f} ms  "
        f"p99 {percentile(samples, 0.99) * 1000:7.1f} ms  (n={len(samples)})"
    )


def rss_mib(field: str = "VmRSS") -> float:
    """This process's resident memory (VmRSS) or its peak (VmHWM), in MiB, from /proc."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")
