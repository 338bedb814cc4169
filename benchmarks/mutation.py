"""Mutation run over one module against its own tests: `.venv/bin/python benchmarks/mutation.py extractors/dedup.py tests/test_dedup.py`.

Needs mutmut 3 (`.venv/bin/python -m pip install mutmut`; a dev tool, not a dependency). The committed files are copied
to a scratch folder beside a link to ../shared (mutmut rewrites the code it mutates in place, under mutants/), a
[mutmut] section naming the module and the test files is written there, and `mutmut run` runs in it. With
--sample N only N mutants drawn at random (seeded) are run. Prints the counts per outcome and the survivors.
"""
from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("module", help="the file to mutate, e.g. extractors/dedup.py")
    parser.add_argument("tests", nargs="+", help="the test files run against each mutant")
    parser.add_argument("--sample", type=int, default=0, help="run only this many mutants, drawn at random")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-children", type=int, default=1)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="newsflow-mutation-"))
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout.split(b"\0")
    for name in filter(None, files):
        target = work / name.decode()
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((REPO / name.decode()).read_bytes())
    (work / "shared").symlink_to(REPO.parent / "shared")  # the tests read ../shared from beside the copy's mutants/
    (work / "setup.cfg").write_text(
        "[mutmut]\nsource_paths=extractors\n"
        f"only_mutate={args.module}\n"
        "pytest_add_cli_args_test_selection=\n" + "".join(f"    {t}\n" for t in args.tests)
        + "also_copy=\n    storage\n    flows\n",
        encoding="utf-8",
    )
    mutmut = [sys.executable, "-m", "mutmut"]
    names: list[str] = []
    if args.sample:
        # `mutmut run` with a name that matches nothing only generates the mutants and runs the stats pass.
        subprocess.run([*mutmut, "run", "--max-children", str(args.max_children), "no-such-mutant"], cwd=work,
                       capture_output=True)
        listed = subprocess.run([*mutmut, "results", "--all", "true"], cwd=work, capture_output=True, text=True).stdout
        every = sorted(re.findall(r"^\s*(\S+__mutmut_\d+):", listed, re.MULTILINE))
        names = sorted(random.Random(args.seed).sample(every, min(args.sample, len(every))))
        print(f"{len(every)} mutants generated; running {len(names)} drawn with seed {args.seed}")
    subprocess.run([*mutmut, "run", "--max-children", str(args.max_children), *names], cwd=work,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    listed = subprocess.run([*mutmut, "results", "--all", "true"], cwd=work, capture_output=True, text=True).stdout
    outcomes = dict(re.findall(r"^\s*(\S+__mutmut_\d+): (.+)$", listed, re.MULTILINE))
    if names:
        outcomes = {name: outcomes.get(name, "not checked") for name in names}
    counts = Counter(outcomes.values())
    tested = sum(n for outcome, n in counts.items() if outcome not in ("not checked", "skipped"))
    print(f"{args.module} against {' '.join(args.tests)} (work folder {work})")
    for outcome, n in counts.most_common():
        print(f"  {outcome}: {n}")
    survived = [name for name, outcome in outcomes.items() if outcome == "survived"]
    if tested:
        print(f"  survival rate: {len(survived)}/{tested} = {len(survived) / tested:.1%}")
    for name in survived:
        print(f"  survived: {name}")


if __name__ == "__main__":
    main()
