"""Baseline: bare trafilatura.extract over HTML files, one process."""
import sys
import time
from pathlib import Path

start = time.perf_counter()
import trafilatura  # noqa: E402

pages = sorted(Path(sys.argv[1]).glob("*.html"))
extracted = [trafilatura.extract(p.read_bytes()) or "" for p in pages]
print(f"{len(pages)} {sum(len(t.split()) for t in extracted)} {time.perf_counter() - start:.2f}")
