"""CPU seconds per process of a command and all its descendants (flow process, Prefect server, Dask workers):
`.venv/bin/python benchmarks/process_cpu.py <command...>`.

Polls /proc every 0.2 s and keeps each process's last user+system time, so a process that lives under 0.2 s is
missed and the last 0.2 s of each may be too (a floor, not an exact count). Linux only.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


def _processes() -> dict[int, tuple[int, float, str]]:
    """pid -> (parent pid, CPU seconds so far, command line) of every process now."""
    found = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
            with open(f"/proc/{pid}/cmdline") as f:
                cmd = f.read().replace("\0", " ").strip()
        except OSError:
            continue  # gone meanwhile
        fields = stat[stat.rfind(")") + 2:].split()  # the command name in () may hold spaces
        found[int(pid)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK, cmd)
    return found


def _descendants(root: int, procs: dict[int, tuple[int, float, str]]) -> set[int]:
    """root and every process below it."""
    tree, grown = {root}, True
    while grown:
        new = {pid for pid, (parent, _cpu, _cmd) in procs.items() if parent in tree} - tree
        tree |= new
        grown = bool(new)
    return tree


def main() -> None:
    start = time.perf_counter()
    child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seen: dict[int, tuple[float, str]] = {}
    while child.poll() is None:
        procs = _processes()
        for pid in _descendants(child.pid, procs):
            seen[pid] = procs[pid][1:]
        time.sleep(0.2)
    print(f"wall {time.perf_counter() - start:.1f} s, exit {child.returncode}")
    for pid, (cpu, cmd) in sorted(seen.items(), key=lambda kv: -kv[1][0]):
        print(f"{cpu:7.1f} s  {pid}  {cmd[:120]}")
    print(f"{sum(cpu for cpu, _ in seen.values()):7.1f} s  total")


if __name__ == "__main__":
    main()
