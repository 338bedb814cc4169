"""DuckDB extensions from the installed `duckdb-extension-<name>` packages: never from the network.

Each package ships the official signed build for one DuckDB version (pyproject.toml pins both). The first use
INSTALLs it from that file into an extension directory newsflow owns (under its cache folder), so a `duckdb`
shell given the same directory finds them too (README: querying a lake from the shell).
"""
from __future__ import annotations

import fcntl
import importlib.util
import os
from pathlib import Path

import duckdb

from newsflow.extractors.settings import Paths


class ExtensionMissing(RuntimeError):
    """An extension's package is not installed, or was built for another DuckDB than this one."""


def package_file(name: str) -> Path:
    """The `.duckdb_extension` file the package `duckdb-extension-<name>` ships for this DuckDB."""
    module = f"duckdb_extension_{name}"
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ExtensionMissing(f"the DuckDB extension {name} is not installed: pip install duckdb-extension-{name.replace('_', '-')}"
                               f"=={duckdb.__version__}")
    path = Path(spec.origin).parent / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    if not path.is_file():
        built = sorted(p.parent.name for p in Path(spec.origin).parent.glob(f"extensions/v*/{name}.duckdb_extension"))
        raise ExtensionMissing(f"the installed DuckDB extension {name} is built for DuckDB {', '.join(built) or '?'}, "
                               f"not the installed DuckDB v{duckdb.__version__}: reinstall newsflow (it pins both)")
    return path


def extension_directory() -> Path:
    """Where newsflow installs the extensions: <cache>/duckdb_extensions (NEWSFLOW_CACHE_DIR, else ~/.cache/newsflow)."""
    cache = os.environ.get("NEWSFLOW_CACHE_DIR")
    return (Path(cache) if cache else Paths().cache()) / "duckdb_extensions"


def load_extensions(con: duckdb.DuckDBPyConnection, *names: str) -> None:
    """LOAD each extension, INSTALLing it first from its package file when the directory lacks it (never a download)."""
    directory = extension_directory()
    con.execute("SET autoinstall_known_extensions = false")  # a missing one must fail here, not reach for the network
    con.execute("SET extension_directory = ?", [str(directory)])
    for name in names:
        try:
            con.execute(f"LOAD {name}")
        except duckdb.IOException:  # not installed in the directory yet (or a stale file): install from the package
            _install(con, name, directory)
            con.execute(f"LOAD {name}")


def _install(con: duckdb.DuckDBPyConnection, name: str, directory: Path) -> None:
    """INSTALL from the package file, one process at a time (two would write the same file)."""
    source = package_file(name)
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / ".install.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        con.execute(f"FORCE INSTALL '{_quoted(source)}'")
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")
