"""py-spy sampling for the benchmarks: attach to a process during a run, then print where its
time went (own and inclusive), from py-spy's raw collapsed stacks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path


def summarise_collapsed(path: Path, name: str, top: int = 25) -> None:
    """The hottest frames in py-spy's collapsed stacks: own time and time below (inclusive)."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    if not total:
        print("  py-spy: no samples")
        return
    print(f"\n  py-spy: {total} samples of {name}; own time (top {top}):")
    for frame, count in own.most_common(top):
        print(f"    {100 * count / total:5.1f} %  {frame}")
    print(f"  inclusive time (top {top}):")
    for frame, count in inclusive.most_common(top):
        print(f"    {100 * count / total:5.1f} %  {frame}")


def start_py_spy(pid: int, out: Path, rate: int, gil: bool) -> subprocess.Popen[bytes]:
    beside_python = Path(sys.executable).with_name("py-spy")
    binary = os.environ.get("PY_SPY") or shutil.which("py-spy")
    if binary is None and beside_python.exists():
        binary = str(beside_python)
    if binary is None:
        raise SystemExit("py-spy not found: install it (pip install py-spy) or set PY_SPY")
    process = subprocess.Popen(
        [binary, "record", "--pid", str(pid), "--format", "raw", "--rate", str(rate),
         "--nonblocking", "--output", str(out), *(["--gil"] if gil else [])],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(0.5)  # let it attach before the load starts
    return process
