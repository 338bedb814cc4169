"""The `newsflow` command as a user runs it: a real process, a real DuckDB file."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from newsflow.flows.cli import build_parser

COMMANDS = [["ingest", "inbox"], ["ingest", "feeds"], ["ingest", "sitemaps"], ["ingest", "urls"], ["sources"], ["sources", "add"],
            ["sources", "remove"], ["watch"], ["serve"], ["sql"], ["export"], ["import"], ["search"], ["view"]]


def newsflow(*args, cwd=None, check=True):
    env = dict(os.environ, PREFECT_LOGGING_LEVEL="WARNING")
    result = subprocess.run(
        [sys.executable, "-m", "newsflow.flows.cli", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300
    )
    if check:
        assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.fixture(params=["duckdb", "ducklake"])
def target(request, tmp_path) -> str:
    """A --db of each target: a .duckdb file, and a DuckLake with a SQLite catalog (data files beside it)."""
    return str(tmp_path / "news.duckdb") if request.param == "duckdb" else f"ducklake:sqlite:{tmp_path / 'news.sqlite'}"


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_an_example(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([*command, "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "example" in text and f"newsflow {' '.join(command)}" in text


def test_ingest_then_query_then_ingest_again_doubles_nothing(tmp_path, samples_dir, target):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for path in samples_dir.iterdir():
        shutil.copy(path, inbox)
    db = target

    first = newsflow("ingest", "inbox", str(inbox), "--db", db)
    assert "new articles: 3" in first.stdout and "try: newsflow sql" in first.stdout

    rows = json.loads(newsflow("sql", "SELECT title, word_count FROM articles ORDER BY title", "--db", db, "--format", "json").stdout)
    assert len(rows) == 3 and all(r["word_count"] > 200 for r in rows)

    for path in samples_dir.iterdir():
        shutil.copy(path, inbox)
    second = newsflow("ingest", "inbox", str(inbox), "--db", db)
    assert "new articles: 0" in second.stdout and "duplicates: 3" in second.stdout

    csv_out = newsflow("sql", "SELECT status, count(*) AS n FROM documents GROUP BY 1 ORDER BY 1", "--db", db, "--format", "csv").stdout
    assert csv_out.splitlines() == ["status,n", "duplicate,3", "new,3"]
    table = newsflow("sql", "SELECT count(*) AS articles FROM articles", "--db", db).stdout
    assert table.splitlines()[2].strip() == "3"
    assert list(inbox.iterdir()) == []


def test_search_ranks_the_sample_articles_and_follows_new_ones(tmp_path, samples_dir, target):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for path in samples_dir.iterdir():
        shutil.copy(path, inbox)
    db = target
    newsflow("ingest", "inbox", str(inbox), "--db", db, "--no-entities")
    titles = {r["title"] for r in json.loads(newsflow("sql", "SELECT title FROM articles", "--db", db, "--format", "json").stdout)}
    found = newsflow("search", "Xi Putin", "--db", db).stdout.splitlines()
    assert found[-1] == "(3 articles for 'Xi Putin')"
    ranked = [line for line in found if line[:1].isdigit()]
    assert {line.split(". ", 1)[1].split("  [")[0] for line in ranked} == titles
    assert all("**Xi**" in line or "**Putin**" in line for line in found if line.startswith("   ") and not line.startswith("   http"))
    assert newsflow("search", "zyzzyva", "--db", db).stdout.splitlines() == ["(0 articles for 'zyzzyva')"]
    assert newsflow("search", "Xi Putin", "--db", db, "--limit", "1").stdout.splitlines()[-1] == "(1 article for 'Xi Putin')"
    assert newsflow("search", "Xi Putin", "--db", db, "--since", "2999-01-01").stdout.splitlines()[-1].startswith("(0 articles")
    # An article landed after the index was built is found by the next search.
    (inbox / "new.txt").write_text("Zyzzyva beetles in the garden\n\n" + "The zyzzyva is a weevil found in South America. " * 10)
    newsflow("ingest", "inbox", str(inbox), "--db", db, "--no-entities")
    assert "1. Zyzzyva beetles in the garden" in newsflow("search", "zyzzyva", "--db", db).stdout
    bad = newsflow("search", "x", "--db", db, "--limit", "0", check=False)
    assert bad.returncode == 2 and "not a whole number >= 1" in bad.stderr


def test_sql_is_read_only_and_errors_are_clear(tmp_path, target):
    db = target
    missing = newsflow("sql", "SELECT 1", "--db", db, check=False)
    assert missing.returncode == 2 and missing.stderr == (
        f"newsflow: no database at {db} yet: nothing has been ingested (run newsflow ingest, "
        "or wait for newsflow watch to land its first file)\n")
    from newsflow.storage.db import connection

    with connection(db):
        pass
    write = newsflow("sql", "DELETE FROM articles", "--db", db, check=False)
    assert write.returncode == 1 and "read-only" in write.stderr.lower()


def test_sql_waits_for_a_writer_says_so_then_that_the_database_is_busy(tmp_path):
    import time

    from newsflow.storage.db import connection
    from tests.test_db import hold_database

    db = tmp_path / "news.duckdb"
    with connection(db):
        pass
    holder = hold_database(db, 3)  # a writer's batch
    started = time.monotonic()
    waited = newsflow("sql", "SELECT count(*) AS n FROM articles", "--db", str(db), "--format", "csv")
    assert waited.stdout.splitlines() == ["n", "0"] and time.monotonic() - started > 1.0
    holder.wait()
    holder = hold_database(db, 120)  # a writer that keeps it
    try:
        started = time.monotonic()
        busy = newsflow("sql", "SELECT count(*) FROM articles", "--db", str(db), "--wait", "2", check=False)
        assert busy.returncode == 1 and busy.stdout == "" and 2 <= time.monotonic() - started < 60
        # The notice comes once the wait passed a second (not when one attempt alone outlasted the whole --wait).
        notice = f"newsflow: {db} is held by another process (a `duckdb` shell or another writer?); waiting up to 2s"
        *before, last = busy.stderr.splitlines()
        assert set(before) <= {notice} and last == (f"newsflow: {db} is busy: another process (newsflow ingest or watch, "
                                                    "or a duckdb shell) kept it open for writing for 2 s; retry, give a "
                                                    "longer --wait SECONDS, or stop the writer")
    finally:
        holder.kill()
        holder.wait()


def as_a_user_without_root_powers() -> list[str]:
    """A command prefix under which file modes apply: root without the capabilities that override them."""
    if os.geteuid() != 0:
        return []
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-dac_override,-dac_read_search"]


def test_a_database_path_that_cannot_serve_is_one_line_saying_why(tmp_path, samples_dir):
    from newsflow.storage.db import connection

    inbox = tmp_path / "inbox"
    shutil.copytree(samples_dir, inbox)
    (tmp_path / "folder.duckdb").mkdir()
    (tmp_path / "notes.duckdb").write_text("not a database\n")
    (tmp_path / "empty.duckdb").write_bytes(b"")
    (tmp_path / "file").write_text("")
    with connection(tmp_path / "damaged.duckdb"):
        pass
    with open(tmp_path / "damaged.duckdb", "r+b") as damaged:  # its first database header
        damaged.seek(4096)
        damaged.write(b"\xff" * 64)
    cases = {
        "folder.duckdb": "is a folder, not a database file",
        "notes.duckdb": "is not a DuckDB database, or is damaged",
        "empty.duckdb": "is not a DuckDB database, or is damaged",
        "damaged.duckdb": "is not a DuckDB database, or is damaged",
        "file/news.duckdb": "is a file, not a folder",
    }
    for name, reason in cases.items():
        db = str(tmp_path / name)
        commands = [["sql", "SELECT 1"], ["ingest", "inbox", str(inbox), "--no-entities"]]
        if name == "folder.duckdb":
            commands += [["watch", str(inbox), "--no-entities"], ["ingest", "urls", "http://127.0.0.1:9/a", "--allow-private"]]
        for command in commands:
            result = newsflow(*command, "--db", db, check=False)
            assert result.returncode in (1, 2) and result.stdout == "", (command, name, result.stderr[-2000:])
            assert result.stderr.startswith("newsflow: ") and reason in result.stderr and result.stderr.count("\n") == 1, \
                (command, name, result.stderr[-2000:])
    assert sorted(p.name for p in inbox.iterdir()) == sorted(p.name for p in samples_dir.iterdir())

    # A database this user may read but not write: sql reads it, ingest says why it cannot write.
    read_only = tmp_path / "read-only"
    read_only.mkdir()
    with connection(read_only / "news.duckdb"):
        pass
    shutil.copy(read_only / "news.duckdb", tmp_path / "read-only-file.duckdb")
    (tmp_path / "read-only-file.duckdb").chmod(0o444)
    read_only.chmod(0o555)
    cases = {
        str(read_only / "news.duckdb"): "the folder of",
        str(tmp_path / "read-only-file.duckdb"): "is read-only for this user",
        str(read_only / "new.duckdb"): f"the folder {read_only} is read-only",
    }
    env = dict(os.environ, PREFECT_LOGGING_LEVEL="WARNING")
    try:
        for db, reason in cases.items():
            ingest = subprocess.run([*as_a_user_without_root_powers(), sys.executable, "-m", "newsflow.flows.cli", "ingest", "inbox",
                                     str(inbox), "--db", db, "--no-entities"], capture_output=True, text=True, env=env, timeout=300)
            assert ingest.returncode == 1 and reason in ingest.stderr and ingest.stderr.count("\n") == 1, ingest.stderr[-2000:]
            if not db.endswith("new.duckdb"):
                read = subprocess.run([*as_a_user_without_root_powers(), sys.executable, "-m", "newsflow.flows.cli", "sql",
                                       "SELECT count(*) AS n FROM articles", "--db", db, "--format", "csv"],
                                      capture_output=True, text=True, env=env, timeout=300)
                assert read.returncode == 0 and read.stdout.splitlines() == ["n", "0"], read.stderr[-2000:]
    finally:
        read_only.chmod(0o755)
    assert sorted(p.name for p in inbox.iterdir()) == sorted(p.name for p in samples_dir.iterdir())


def test_sql_output_cut_short_by_its_reader_is_no_traceback(tmp_path):
    db = str(tmp_path / "news.duckdb")
    from newsflow.storage.db import connection

    with connection(db):
        pass
    reader = subprocess.Popen([sys.executable, "-m", "newsflow.flows.cli", "sql", "SELECT * FROM range(200000)", "--db", db],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert reader.stdout.readline().strip() == b"range"  # then stop reading, as `| head -1` does
    reader.stdout.close()
    assert reader.wait(timeout=60) == 1
    assert reader.stderr.read() == b""


def test_a_page_without_text_is_a_rejection_not_log_noise(tmp_path, samples_dir, shared_dir):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(sorted(samples_dir.iterdir())[0], inbox)
    # A page cut off inside its <head>: trafilatura gives up on it ("discarding data" at WARNING).
    page = sorted((shared_dir / "benchdata" / "extraction_aeb" / "html").glob("*.html"))[0]
    (inbox / "truncated.html").write_bytes(page.read_bytes()[:400])
    db = str(tmp_path / "news.duckdb")
    result = newsflow("ingest", "inbox", str(inbox), "--db", db)
    assert "rejected: 1" in result.stdout
    assert "discarding data" not in result.stdout + result.stderr  # trafilatura's own warning, silenced
    rows = json.loads(newsflow("sql", "SELECT error FROM documents WHERE status = 'rejected'", "--db", db, "--format", "json").stdout)
    assert [r["error"] for r in rows] == ["clean_empty"]


def test_an_unreachable_prefect_server_is_a_clear_error_and_touches_nothing(tmp_path, samples_dir):
    inbox = tmp_path / "inbox"
    shutil.copytree(samples_dir, inbox)
    before = sorted(p.name for p in inbox.iterdir())
    env = dict(os.environ, PREFECT_LOGGING_LEVEL="WARNING", PREFECT_API_URL="http://127.0.0.1:9/api")
    result = subprocess.run([sys.executable, "-m", "newsflow.flows.cli", "ingest", "inbox", str(inbox), "--db", str(tmp_path / "x.duckdb")],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 1, result.stderr[-2000:]
    assert result.stderr.startswith("newsflow: Failed to reach API at http://127.0.0.1:9/api") and "Traceback" not in result.stderr
    assert sorted(p.name for p in inbox.iterdir()) == before


def test_missing_inbox_is_a_clear_error(tmp_path):
    result = newsflow("ingest", "inbox", str(tmp_path / "nope"), "--db", str(tmp_path / "x.duckdb"), check=False)
    assert result.returncode == 2 and "does not exist" in result.stderr


def test_a_file_where_the_archive_should_be_is_a_bad_argument_and_nothing_is_read(tmp_path, samples_dir):
    inbox, db = tmp_path / "inbox", tmp_path / "news.duckdb"
    shutil.copytree(samples_dir, inbox)
    before = sorted(p.name for p in inbox.iterdir())
    (tmp_path / "archive").write_text("a file, not a folder")
    expected = [f"newsflow: the archive folder {tmp_path / 'archive'} is a file, not a folder (set another with --archive)"]
    for command in (["ingest", "inbox"], ["watch"]):
        result = newsflow(*command, str(inbox), "--db", str(db), check=False)
        assert (result.returncode, result.stderr.splitlines()) == (2, expected), result.stderr[-2000:]
    assert sorted(p.name for p in inbox.iterdir()) == before and not db.exists()


def test_an_archive_folder_that_refuses_files_is_an_error_before_anything_is_written(tmp_path, samples_dir):
    inbox, db, archive = tmp_path / "inbox", tmp_path / "news.duckdb", tmp_path / "archive"
    shutil.copytree(samples_dir, inbox)
    before = sorted(p.name for p in inbox.iterdir())
    archive.mkdir()
    subprocess.run(["chattr", "+i", str(archive)], check=True)  # refuses even root
    try:
        result = newsflow("ingest", "inbox", str(inbox), "--db", str(db), check=False)
    finally:
        subprocess.run(["chattr", "-i", str(archive)], check=True)
    expected = [f"newsflow: the archive folder {archive} cannot be written: Operation not permitted"]
    assert (result.returncode, result.stderr.splitlines()) == (1, expected), result.stderr[-2000:]
    assert sorted(p.name for p in inbox.iterdir()) == before and not db.exists() and list(archive.iterdir()) == []


def test_ingest_feeds_from_a_local_server_then_poll_again(tmp_path, shared_dir, target):
    from tests.feed_server import FeedServer

    db = target
    with FeedServer(root=shared_dir / "benchdata" / "feeds" / "realworld") as server:
        feed = server.url("/DaringFireball.atom")
        first = newsflow("ingest", "feeds", feed, "--db", db, "--allow-private", "--no-fetch", "--no-entities")
        assert "feeds: 1 (0 unchanged, 0 failed)" in first.stdout
        landed = json.loads(newsflow("sql", "SELECT count(*) AS n FROM articles", "--db", db, "--format", "json").stdout)[0]["n"]
        assert landed > 0
        again = newsflow("ingest", "feeds", feed, "--db", db, "--allow-private", "--no-fetch", "--no-entities")
        assert "1 unchanged" in again.stdout and "new articles: 0" in again.stdout
        refused = newsflow("ingest", "feeds", feed, "--db", db, "--no-fetch", "--no-entities")
        assert "1 failed" in refused.stdout
    state = json.loads(newsflow("sql", "SELECT last_error FROM sources", "--db", db, "--format", "json").stdout)
    assert "private" in (state[0]["last_error"] or "")


def test_ctrl_c_stops_a_run_within_seconds_and_loses_nothing(tmp_path, shared_dir):
    import signal
    import time

    import duckdb

    pages = sorted((shared_dir / "benchdata" / "extraction_aeb" / "html").glob("*.html"))[:120]
    inbox, archive, db = tmp_path / "inbox", tmp_path / "archive", tmp_path / "news.duckdb"
    inbox.mkdir()
    for page in pages:
        shutil.copy(page, inbox / page.name)
    command = [sys.executable, "-m", "newsflow.flows.cli", "ingest", "inbox", str(inbox), "--db", str(db), "--batch-size", "10",
               "--no-entities"]
    # A new process group, so the Ctrl-C reaches only the command (conftest.py gives it a terminal's SIGINT).
    proc = subprocess.Popen(command, start_new_session=True, env=dict(os.environ, PREFECT_LOGGING_LEVEL="WARNING"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while not (archive.is_dir() and any(archive.rglob("*.html"))) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()[1][-2000:]
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches every process of the group: workers included
    interrupted = time.monotonic()
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:  # hung: leave no process behind for the next test
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130 and time.monotonic() - interrupted < 15, err[-2000:]
    for _ in range(50):  # the local cluster's workers end with the run
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("processes of the interrupted run are still alive")
    left = {p.name for p in inbox.iterdir()}
    archived = {p.name for p in archive.rglob("*.html")}
    assert left | archived == {p.name for p in pages} and not left & archived and left
    con = duckdb.connect(str(db), read_only=True)
    recorded = {Path(r).name for (r,) in con.execute("SELECT source_ref FROM documents").fetchall()}
    con.close()
    # Every moved file has its rows; a batch committed just before the interrupt may not have been moved yet
    # (as after kill -9): the next run moves it without ingesting it again.
    assert archived <= recorded and len(recorded - archived) <= 10
    newsflow("ingest", "inbox", str(inbox), "--db", str(db), "--no-entities")
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*), count(DISTINCT source_ref) FROM documents").fetchone() == (len(pages),) * 2
    con.close()
    assert list(inbox.iterdir()) == [] and {p.name for p in archive.rglob("*.html")} == {p.name for p in pages}


def start_fetching(tmp_path, source: str, url: str, **env: str) -> subprocess.Popen:
    """`newsflow ingest <source> <url>` in a process of its own, on a private address, without entities."""
    command = [sys.executable, "-m", "newsflow.flows.cli", "ingest", source, url, "--db", str(tmp_path / "news.duckdb"),
               "--allow-private", "--no-entities"]
    env = dict(os.environ, PREFECT_LOGGING_LEVEL="WARNING", NEWSFLOW_PER_HOST_DELAY_S="0", **env)
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_request(server, path: str, proc: subprocess.Popen) -> float:
    """When the server first saw path (polled; the command's start-up takes a while on a busy machine)."""
    import time

    deadline = time.monotonic() + 240
    while path not in server.paths() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert path in server.paths(), proc.communicate()[1][-2000:] if proc.poll() is not None else "no request"
    return time.monotonic()


def finish(proc: subprocess.Popen, timeout: float) -> tuple[str, str]:
    try:
        return proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:  # hung: leave no process behind for the next test
            proc.kill()
            proc.communicate()


def test_a_page_dripping_its_headers_is_rejected_at_the_deadline(tmp_path):
    import time

    import duckdb

    from tests.feed_server import FeedServer, Step

    with FeedServer() as server:
        # One byte a second: the headers alone would take some 75 s, and no single read ever waits long.
        server.script("/slowloris", Step(body=b"<p>late</p>", drip_s=1.0))
        proc = start_fetching(tmp_path, "urls", server.url("/slowloris"), NEWSFLOW_TOTAL_TIMEOUT_S="3")
        asked = wait_for_request(server, "/slowloris", proc)
        out, err = finish(proc, timeout=40)
        took = time.monotonic() - asked
        assert proc.returncode == 0, err[-2000:]
        assert took < 3 + 15  # the deadline, then the pipeline and the exit on a busy machine
        assert server.paths().count("/slowloris") == 1
    assert "rejected: 1" in out
    con = duckdb.connect(str(tmp_path / "news.duckdb"), read_only=True)
    assert con.execute("SELECT status, error FROM documents").fetchall() == [("rejected", "fetch_timeout")]
    con.close()


def test_sigterm_stops_a_feed_run_in_the_middle_of_a_fetch(tmp_path):
    import signal
    import time

    import duckdb

    from tests.feed_server import FeedServer, Step

    with FeedServer() as server:
        server.script("/slowloris", Step(body=b"<p>late</p>", drip_s=1.0))
        teaser = (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Local</title><item><title>One</title>'
                  f'<link>{server.url("/slowloris")}</link><guid>one</guid><description>A teaser.</description></item>'
                  f'</channel></rss>').encode()
        server.script("/feed.xml", Step(body=teaser, content_type="application/rss+xml"))
        # A deadline far off: what must end the run is the SIGTERM, not the timeout.
        proc = start_fetching(tmp_path, "feeds", server.url("/feed.xml"), NEWSFLOW_TOTAL_TIMEOUT_S="120")
        wait_for_request(server, "/slowloris", proc)  # the headers have begun: some 75 s of them to come
        proc.send_signal(signal.SIGTERM)
        terminated = time.monotonic()
        out, err = finish(proc, timeout=30)
        took = time.monotonic() - terminated
    # Killed by the signal itself, as a shell reports with status 143 (Prefect re-raises it after its clean-up).
    assert proc.returncode == -signal.SIGTERM, err[-2000:]
    assert took < 10
    con = duckdb.connect(str(tmp_path / "news.duckdb"), read_only=True)
    (error,) = con.execute("SELECT error FROM runs").fetchone()
    assert "TerminationSignal" in error
    assert con.execute("SELECT count(*) FROM seen_entries").fetchone() == (0,)  # the next poll takes the entry
    con.close()
