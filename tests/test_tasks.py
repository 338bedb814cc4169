"""flows/tasks.py: the stages as Prefect tasks on Dask workers; scale-out onto a real `dask scheduler` and `dask worker`s."""
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from newsflow.extractors.records import Article
from newsflow.extractors.settings import Ner
from newsflow.flows.tasks import Sealed, Workers, extract_entities

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_inbox(inbox: Path, shared_dir: Path, samples_dir: Path) -> None:
    """Pages of one site in a sub-folder (its chrome is learned in the batch), loose pages, texts, a copy, a binary."""
    pages = sorted((shared_dir / "benchdata" / "extraction_aeb" / "html").glob("*.html"))
    (inbox / "site_a").mkdir(parents=True)
    for page in pages[:8]:
        shutil.copy(page, inbox / "site_a" / page.name)
    for page in pages[8:30]:
        shutil.copy(page, inbox / page.name)
    for text in samples_dir.iterdir():
        shutil.copy(text, inbox / text.name)
        shutil.copy(text, inbox / f"copy-{text.name}")
    (inbox / "blob.html").write_bytes(b"\x00\x01\x02" * 100)


def rows(db: Path, inbox: Path) -> dict[str, list]:
    """What a run wrote, without what differs between runs (random document ids, times, paths of the inbox)."""
    con = duckdb.connect(str(db), read_only=True)
    prefix = str(inbox.resolve()) + "/"
    out = {
        "documents": con.execute(
            "SELECT replace(source_ref, $1, ''), status, article_id, dedup_method, round(similarity, 9), error "
            "FROM documents ORDER BY 1", [prefix]).fetchall(),
        "articles": con.execute(
            # extraction_notes carry each extraction candidate's time ("readability 12 ms"): the rest must match.
            "SELECT * EXCLUDE (first_seen_at, extraction_notes), regexp_replace(extraction_notes, '[0-9]+ ms', 'ms', 'g') "
            "FROM articles ORDER BY article_id").fetchall(),
        "mentions": con.execute("SELECT * FROM mentions ORDER BY article_id, start_char").fetchall(),
        "removed_lines": con.execute(
            "SELECT replace(d.source_ref, $1, ''), r.article_id, r.line_no, r.line, r.reason FROM removed_lines r "
            "JOIN documents d USING (document_id) ORDER BY 1, 3", [prefix]).fetchall(),
        "site_lines": con.execute("SELECT * FROM site_lines ORDER BY ALL").fetchall(),
    }
    out["run"] = con.execute("SELECT run_id FROM runs").fetchall()
    con.close()
    return out


def newsflow(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "newsflow.flows.cli", *args], capture_output=True, text=True,
                            env=env, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def descendants(pid: int) -> list[int]:
    """Every process under pid (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def test_an_inbox_ingested_on_a_dask_cluster_gets_exactly_the_rows_of_a_local_run(prefect_harness, tmp_path, shared_dir, samples_dir):
    from distributed import Client
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.settings import PREFECT_API_URL

    api = PREFECT_API_URL.value()  # the session's Prefect server, on 127.0.0.1
    local_inbox, remote_inbox = tmp_path / "local" / "inbox", tmp_path / "remote" / "inbox"
    make_inbox(local_inbox, shared_dir, samples_dir)
    make_inbox(remote_inbox, shared_dir, samples_dir)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API", "NEWSFLOW_", "DASK_"))}
    base.update(PREFECT_LOGGING_LEVEL="WARNING", NEWSFLOW_CACHE_DIR=os.environ["NEWSFLOW_CACHE_DIR"])
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    # The workers get no PREFECT_API_URL: the flow's settings, sent with every task, must point them at its server.
    cluster = [subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                                env=base, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)]
    logs = [tmp_path / f"worker{n}.log" for n in (1, 2)]
    try:
        for n, log in enumerate(logs, 1):
            cluster.append(subprocess.Popen(
                [str(BIN / "dask"), "worker", address, "--nthreads", "1", "--nworkers", "1", "--no-dashboard",
                 "--name", f"w{n}", "--host", "127.0.0.1"],
                env=base, stdout=subprocess.DEVNULL, stderr=log.open("w"), cwd=tmp_path,
            ))
        with Client(address, timeout=120) as client:
            client.wait_for_workers(2, timeout=240)
            before = client.run(lambda dask_worker: dask_worker.state.executed_count)
            env = dict(base, PREFECT_API_URL=api, NEWSFLOW_CHUNK_SIZE="4")
            newsflow("ingest", "inbox", str(local_inbox), "--db", str(tmp_path / "local.duckdb"), env=dict(env, NEWSFLOW_WORKERS="0"))
            newsflow("ingest", "inbox", str(remote_inbox), "--db", str(tmp_path / "remote.duckdb"), "--dask-address", address, env=env)
            executed = client.run(lambda dask_worker: dask_worker.state.executed_count)
        local, remote = rows(tmp_path / "local.duckdb", local_inbox), rows(tmp_path / "remote.duckdb", remote_inbox)
        (run_id,), = remote.pop("run")
        local.pop("run")
        assert local == remote
        statuses = {status for _, status, *_ in remote["documents"]}
        assert statuses == {"new", "duplicate", "rejected"} and len(remote["documents"]) == 37
        assert remote["mentions"] and remote["removed_lines"] and remote["site_lines"]
        # The work ran on both workers...
        assert len(executed) == 2 and all(executed[w] > before[w] for w in executed), (before, executed)
        # ...and their task runs, one per chunk (37 documents: at least 4 a chunk, two chunks per worker: 4 of 10),
        # are in the flow's Prefect server (recorded from the workers' events: poll).
        with get_client(sync_client=True) as prefect:
            deadline = time.monotonic() + 60
            while True:
                runs = prefect.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))
                chunked = [r for r in runs if r.name.startswith("extract_and_clean")]
                if len(chunked) == 4 and all(r.state_type.value == "COMPLETED" for r in chunked) or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
        assert len(chunked) == 4 and all(r.state_type.value == "COMPLETED" for r in chunked), [(r.name, r.state_type) for r in chunked]
        # No worker started a Prefect server of its own.
        servers = [cmdline(p) for proc in cluster for p in descendants(proc.pid) if "prefect" in cmdline(p) and "server" in cmdline(p)]
        assert servers == []
    finally:
        for proc in reversed(cluster):
            proc.terminate()
        for proc in cluster:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def article(key: str, text: str) -> Article:
    return Article(key, "", text, article_id=key)


def test_in_this_process_a_stage_is_one_task_run_over_all_its_items(prefect_harness):
    texts = {f"a{n}": f"Angela Merkel met Emmanuel Macron in Paris on day {n}." for n in range(5)}
    (found, failed), = Workers(None, chunk_size=2).map(extract_entities, [article(k, t) for k, t in texts.items()], ner=Ner())
    assert not failed and [m.article_id for m in found] == sorted(m.article_id for m in found)
    assert {m.article_id for m in found} == set(texts)


def test_a_sealed_value_reaches_the_task_as_it_is():
    items = [(1, "a"), (2, "b")]
    assert Sealed(items).value is items


def test_a_session_runs_a_few_items_here_and_more_on_its_cluster(prefect_harness):
    from dataclasses import replace

    from distributed import get_task_stream

    from newsflow.extractors.settings import Settings
    from newsflow.flows.tasks import dask_workers

    settings = Settings()
    settings = replace(settings, cluster=replace(settings.cluster, workers=1, chunk_size=2))
    few = [article(f"a{n}", f"Angela Merkel met Emmanuel Macron in Paris on day {n}.") for n in range(3)]
    more = [article(f"b{n}", f"Olaf Scholz spoke in Berlin on day {n}.") for n in range(4)]
    with dask_workers(settings, here_max=3) as session:
        with get_task_stream(session.runner.client) as here:
            (found, failed), = session.map(extract_entities, few, ner=Ner())
        with get_task_stream(session.runner.client) as there:
            results = session.map(extract_entities, more, ner=Ner())
    assert not failed and {m.article_id for m in found} == {a.article_id for a in few}
    assert here.data == [] and len(there.data) == len(results) == 2  # chunks of two on the worker
    assert {m.article_id for found, _ in results for m in found} == {a.article_id for a in more}


def test_warming_this_process_builds_the_dictionaries_of_every_lexicon_language():
    from newsflow.extractors.entity_dictionary import load_dictionary
    from newsflow.extractors.lines import lexicon_languages

    languages = lexicon_languages()
    assert {"de", "en", "fr", "id"} <= set(languages)
    Workers(None).warm(Ner())
    before = load_dictionary.cache_info()
    for language in set(languages) - {"en"}:
        load_dictionary(language)
    after = load_dictionary.cache_info()
    assert after.misses == before.misses and after.hits - before.hits == len(set(languages) - {"en"})
