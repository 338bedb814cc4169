"""The CLI's exit: threads joined and exit handlers run as at a normal exit, then the process ends at once."""
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CHILD = textwrap.dedent("""
    import atexit, concurrent.futures, sys, threading, time
    from pathlib import Path
    from newsflow.flows.shutdown import exit_process

    out = Path(sys.argv[1])
    def late_writer():
        time.sleep(0.3)
        (out / "thread").write_text("done")
    threading.Thread(target=late_writer).start()  # not a daemon: the exit waits for it
    pool = concurrent.futures.ThreadPoolExecutor(1)
    pool.submit(lambda: None).result()  # an idle pool worker must not hold the exit
    atexit.register(lambda: (out / "handler").write_text(str((out / "thread").exists())))
    print("summary", end="")  # still in the buffer of a piped stdout
    exit_process(int(sys.argv[2]))
""")


def _python(source: str, *args: object) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", source, *map(str, args)], capture_output=True, text=True,
                          timeout=60, cwd=REPO)


def test_exit_process_joins_threads_runs_handlers_flushes_and_keeps_the_code(tmp_path):
    done = _python(CHILD, tmp_path, 3)
    assert done.returncode == 3, done.stderr
    assert done.stdout == "summary"
    assert (tmp_path / "thread").read_text() == "done"
    assert (tmp_path / "handler").read_text() == "True"  # the handlers ran after the thread finished
    assert _python(CHILD, tmp_path, 0).returncode == 0


def test_an_unflushable_stdout_gives_python_s_exit_status_120():
    child = textwrap.dedent("""
        import io, sys
        from newsflow.flows.shutdown import exit_process
        class ClosedPipe(io.StringIO):
            def flush(self):
                raise BrokenPipeError(32, "Broken pipe")
        sys.stdout = ClosedPipe()
        exit_process(0)
    """)
    done = _python(child)
    assert done.returncode == 120, done.stderr


def test_the_console_script_exits_through_exit_process():
    import tomllib

    scripts = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert scripts["newsflow"] == "newsflow.flows.cli:run"
