"""Input never reaches a shell, eval or a path outside the configured folders."""
import json
import re
import shutil
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
CODE = [p for folder in ("flows", "extractors", "storage") for p in (REPO / folder).rglob("*.py")]


def test_no_shell_eval_or_pickle_of_input_in_the_code():
    dangerous = re.compile(r"\b(eval|exec)\(|shell\s*=\s*True|os\.system\(|os\.popen\(|pickle\.loads?\(|yaml\.load\(")
    offenders = [f"{p.relative_to(REPO)}:{n}" for p in CODE for n, line in enumerate(p.read_text().splitlines(), 1)
                 if dangerous.search(line)]
    assert offenders == []


def test_names_inside_records_never_become_paths(prefect_harness, tmp_path, samples_dir):
    """A JSON record's url/title full of ../ lands as data; originals stay under archive/ by their inbox name."""
    from flows.ingest import ingest_inbox

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    body = (samples_dir / sorted(p.name for p in samples_dir.iterdir())[0]).read_text()
    record = {"url": "../../../../etc/passwd", "title": "../../escape/../me", "text": body, "author": "/etc/shadow"}
    (inbox / "evil.json").write_text(json.dumps(record))
    ingest_inbox(inbox=str(inbox), db=str(tmp_path / "news.duckdb"))
    everything = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert {p for p in everything if not p.startswith(("archive/", "news.duckdb"))} == set()
    assert any(p.startswith("archive/") and p.endswith("/evil.json") for p in everything)
    con = duckdb.connect(str(tmp_path / "news.duckdb"), read_only=True)
    assert con.execute("SELECT title FROM articles").fetchone()[0] == "../../escape/../me"
    con.close()
    shutil.rmtree(inbox)
