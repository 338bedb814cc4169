"""Soak run: `newsflow watch` fed thousands of files, some hostile, while `newsflow sql` runs in a loop.

Files are written under a `.tmp` name and renamed into the inbox in bursts. About 5 % are hostile: the kinds
of the hardening issue (lone surrogates and 5,000-deep nesting in JSON, a name near 255 bytes dropped twice, a
name coming back with other content, a 5 MB one-line text) and the older bad-input kinds (empty, binary, NUL
bytes, invalid JSON, a JSON record without text, a malformed feed, entity expansion, a gzip bomb, a symlink out
of the inbox). Every other file is a real news page or article text, with a line of its own so most land as
new articles and some as near duplicates.

At the end every dropped (name, sha256) must have exactly one `documents` row (inputs that hold one document),
every original must be in the archive or quarantine, the inbox empty, watch still running, and no traceback
on watch's or any reader's stderr. Reader latencies (one `newsflow sql` process per query) are reported.

Run: .venv/bin/python benchmarks/soak_watch.py [--files 5000] [--entities]   (writes benchmarks/results/soak.md)
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
RESULTS = REPO / "benchmarks" / "results" / "soak.md"
HOSTILE_SHARE = 0.05
BURST = 50
BURST_PAUSE_S = 0.5

BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 2 else "&lol;" * 10}">' for i in range(2, 10))
    + ']><rss version="2.0"><channel><title>&lol9;</title><item><title>x</title><description>&lol9;</description>'
    "</item></channel></rss>"
)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))] if ordered else float("nan")


def real_inputs() -> list[tuple[str, bytes]]:
    """Real pages and article texts to drop: (suffix, bytes)."""
    found = []
    for path in sorted((SHARED / "benchdata" / "extraction_aeb" / "html").glob("*.html"))[:400]:
        found.append((".html", path.read_bytes()))
    for path in sorted((REPO / "samples" / "inbox").iterdir()):
        found.append((path.suffix, path.read_bytes()))
    return found


def vary(suffix: str, data: bytes, n: int) -> bytes:
    """The same page with a line of its own, so it is a distinct input (and mostly a distinct article)."""
    line = f"Soak run note {n}: reported by desk {n % 97} on day {n % 31} about item {n * 7919 % 100003}."
    if suffix in (".html", ".htm"):
        return data.replace(b"</p>", f" {line}</p>".encode(), 1) if b"</p>" in data else data + line.encode()
    if suffix == ".json":
        return data  # JSON samples stay as they are (exact duplicates after the first)
    return data + f"\n\n{line}\n".encode()


def hostile_inputs(n: int, outside: Path) -> list[tuple[str, bytes | None]]:
    """One of each hostile kind for slot n: (name, bytes); bytes None means a symlink out of the inbox."""
    text = "A lone surrogate story about the harbour budget vote. " * 20
    long_stem = "n" * 236  # every drop of it needs a suffixed archive name after the first
    kinds = [
        (f"surrogate-{n}.json", ('{"title": "Bad \\ud800 title", "text": "' + text + '\\udfff end"}').encode()),
        (f"deep-{n}.json", b"[" * 5000 + b"]" * 5000),
        (f"{long_stem}.txt", f"Long name story {n}\n\n{text}".encode()),
        (f"{long_stem}.txt", f"Long name story {n}, second copy\n\n{text} More.".encode()),
        ("story.txt", b""),  # quarantined empty; the next kind brings the same name back with an article
        ("story.txt", f"Story {n} comes back fixed\n\n{text}".encode()),
        (f"binary-{n}.txt", random.Random(n).randbytes(20000)),
        (f"nul-{n}.txt", b"Title\n\n" + b"\0" * 5000),
        (f"invalid-{n}.json", b'{"title": "x", "text": '),
        (f"notext-{n}.json", json.dumps({"title": "Headline only", "url": "https://example.com/x"}).encode()),
        (f"malformed-{n}.rss", b"<rss><channel><title>Broken<item><title>Unclosed"),
        (f"laughs-{n}.xml", BILLION_LAUGHS.encode()),
        (f"bomb-{n}.gz", gzip.compress(b"\0" * 20_000_000)),
        (f"oneline-{n}.txt", ("word " * 1_000_000).encode()),
        (f"link-{n}.txt", None),
    ]
    return [kinds[n % len(kinds)]]


def plan(files: int, outside: Path) -> list[tuple[str, bytes | None]]:
    """The drops, in order: (name, bytes)."""
    rng = random.Random(1)
    real = real_inputs()
    drops: list[tuple[str, bytes | None]] = []
    hostile_every = round(1 / HOSTILE_SHARE)
    for n in range(files):
        if n % hostile_every == hostile_every - 1:
            drops += hostile_inputs(n // hostile_every, outside)
        else:
            suffix, data = rng.choice(real)
            drops.append((f"page-{n:05d}{suffix}", vary(suffix, data, n) if rng.random() < 0.9 else data))
    return drops[:files]


def reader_loop(db: Path, stop: threading.Event, out: list[tuple[float, int, str]]) -> None:
    """`newsflow sql` again and again until stopped: (seconds, exit status, stderr)."""
    while not stop.is_set():
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "newsflow.flows.cli", "sql", "SELECT count(*) FROM documents", "--db", str(db)],
                              capture_output=True, text=True)
        out.append((time.perf_counter() - started, done.returncode, done.stderr))


def account(db: Path, dropped: list[tuple[str, str]], links: list[str]) -> dict[str, object]:
    """Compare what was dropped with the documents rows."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute("SELECT source_ref, raw_sha256, status, error, stored_path FROM documents").fetchall()
    runs = con.execute("SELECT status, count(*) FROM runs GROUP BY 1").fetchall()
    con.close()
    per_file = Counter((ref, sha) for ref, sha, *_ in rows if "#" not in ref)
    wanted = Counter(dropped)  # the same name and bytes dropped again (an empty story.txt) is another input
    multi = {ref.split("#")[0] for ref, *_ in rows if "#" in ref}
    missing = [d for d in wanted if per_file[d] < wanted[d] and d[0] not in multi]
    link_rows = {ref: error for ref, _, _, error, _ in rows if ref in set(links)}
    missing += [(name, "symlink") for name in links if link_rows.get(name) != "read_symlink"]
    twice = {k: v for k, v in per_file.items() if v > wanted.get(k, 0) and k[0] not in links}  # links: checked above
    dangling = [r[0] for r in rows if r[4] and not os.path.lexists(r[4])]
    statuses: dict[str, int] = {}
    reasons: dict[str, int] = {}
    for _, _, status, error, _ in rows:
        statuses[status] = statuses.get(status, 0) + 1
        if error:
            reasons[error] = reasons.get(error, 0) + 1
    return {"documents": len(rows), "missing": missing, "twice": twice, "dangling": dangling, "statuses": statuses,
            "reasons": reasons, "runs": dict(runs)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--entities", action="store_true", help="run NER too (slower)")
    parser.add_argument("--timeout", type=float, default=5400, help="give up after this many seconds")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="newsflow-soak-"))
    inbox, outside, db = work / "inbox", work / "outside", work / "soak.duckdb"
    inbox.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text("Secret outside the inbox\n\n" + "Nothing to see. " * 50)
    drops = plan(args.files, outside)

    cmd = [sys.executable, "-m", "newsflow.flows.cli", "watch", str(inbox), "--db", str(db)]
    if not args.entities:
        cmd.append("--no-entities")
    watch_err = open(work / "watch.stderr", "w")
    watcher = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=watch_err, start_new_session=True)
    stop = threading.Event()
    reads: list[tuple[float, int, str]] = []
    reader = threading.Thread(target=reader_loop, args=(db, stop, reads))
    reader.start()

    started = time.monotonic()
    dropped: list[tuple[str, str]] = []
    for i, (name, data) in enumerate(drops):
        target = inbox / name
        while (target.exists() or target.is_symlink()) and watcher.poll() is None:
            time.sleep(0.1)  # the same name dropped again waits for the first to go
        if watcher.poll() is not None:
            break  # watch died: the rest would wait forever
        if data is None:
            os.symlink(outside / "secret.txt", target)
            dropped.append((name, hashlib.sha256(b"").hexdigest()))
        else:
            tmp = inbox / f".{name[:200]}.tmp"
            tmp.write_bytes(data)
            tmp.rename(target)
            dropped.append((name, hashlib.sha256(data).hexdigest()))
        if i % BURST == BURST - 1:
            time.sleep(BURST_PAUSE_S)
    fed = time.monotonic() - started

    while any(inbox.iterdir()) and time.monotonic() - started < args.timeout and watcher.poll() is None:
        time.sleep(1)
    drained = time.monotonic() - started
    time.sleep(3)  # the last batch's move follows its commit
    stop.set()
    reader.join()
    alive = watcher.poll() is None
    watcher.send_signal(signal.SIGINT)
    try:
        code = watcher.wait(timeout=120)
    except subprocess.TimeoutExpired:
        watcher.kill()
        code = "killed after 120 s"
    watch_err.close()
    stderr = (work / "watch.stderr").read_text(errors="replace")

    links = [d[0] for d in dropped if d[0].startswith("link-")]
    result = account(db, [d for d in dropped if not d[0].startswith("link-")], links)
    kept = sum(1 for p in (work / "archive").rglob("*") if (p.is_file() or p.is_symlink()) and not p.name.endswith(".error")) + \
        sum(1 for p in (work / "quarantine").rglob("*") if (p.is_file() or p.is_symlink()) and not p.name.endswith(".error"))
    times = [t for t, _, _ in reads]
    early = [r for r in reads if r[1] == 2 and "nothing has been ingested" in r[2]]  # before the first landing
    failed = [(r[1], r[2].strip().splitlines()[-1] if r[2].strip() else "") for r in reads if r[1] != 0 and r not in early]
    tracebacks = sum("Traceback" in e for _, _, e in reads) + stderr.count("Traceback")
    lines = [
        f"# Soak run of `newsflow watch` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})",
        "",
        f"Command: `python benchmarks/soak_watch.py --files {args.files}{' --entities' if args.entities else ''}`; "
        f"{os.cpu_count()} cores. Hostile share {HOSTILE_SHARE:.0%}; drops in bursts of {BURST}, {BURST_PAUSE_S} s apart.",
        "",
        "| figure | value |",
        "|---|---|",
        f"| files dropped | {len(dropped)} ({sum(1 for n, _ in dropped if not n.startswith('page-'))} hostile) |",
        f"| feeding took / inbox empty after | {fed:.0f} s / {drained:.0f} s |",
        f"| documents rows | {result['documents']} {result['statuses']} |",
        f"| dropped inputs without a documents row | {len(result['missing'])} {result['missing'][:5]} |",
        f"| inputs with more rows than drops | {len(result['twice'])} |",
        f"| symlinks dropped (read_symlink expected) | {len(links)} |",
        f"| originals kept in archive + quarantine | {kept} of {len(dropped)} |",
        f"| stored_path pointing at nothing | {len(result['dangling'])} |",
        f"| files left in the inbox | {sum(1 for _ in inbox.iterdir())} |",
        f"| watch still running at the end | {alive} (exit status after SIGINT: {code}) |",
        f"| tracebacks (watch + readers) | {tracebacks} |",
        f"| `newsflow sql` calls / \"nothing ingested yet\" (before the first landing) / failed | {len(reads)} / {len(early)} / "
        f"{len(failed)} {sorted(set(failed))[:3]} |",
        f"| reader seconds p50 / p95 / max | {percentile(times, 50):.2f} / {percentile(times, 95):.2f} / {max(times, default=float('nan')):.2f} |",
        f"| runs by status | {result['runs']} |",
        "",
        "Rejection reasons: " + ", ".join(f"`{k}` {v}" for k, v in sorted(result["reasons"].items(), key=lambda kv: -kv[1])),
        "",
    ]
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))
    ok = alive and not result["missing"] and not result["twice"] and not result["dangling"] and tracebacks == 0 \
        and kept == len(dropped)
    if ok:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"kept for inspection: {work}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
