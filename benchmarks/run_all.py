"""Run every benchmark in turn; each prints its table and writes benchmarks/results/<name>.md.

    .venv/bin/python benchmarks/run_all.py [name ...]      e.g. run_all.py cleaning ner
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = ["cleaning", "competitors", "dedup", "stories", "ner", "feeds", "latency", "throughput"]


def main() -> int:
    names = sys.argv[1:] or ORDER
    unknown = [n for n in names if not (HERE / f"bench_{n}.py").is_file()]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(ORDER)}", file=sys.stderr)
        return 2
    failed = []
    for name in names:
        start = time.perf_counter()
        print(f"== {name}", flush=True)
        if subprocess.run([sys.executable, str(HERE / f"bench_{name}.py")], cwd=HERE.parent).returncode != 0:
            failed.append(name)
        print(f"== {name}: {time.perf_counter() - start:.0f} s", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
