"""DuckDB extensions come from the installed packages, for the pinned DuckDB, never from the network."""
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from newsflow.storage.extensions import ExtensionMissing, extension_directory, load_extensions, package_file

NEEDED = ("fts", "ducklake", "sqlite_scanner", "postgres_scanner")


def test_the_pinned_duckdb_is_the_one_the_extension_packages_are_built_for():
    assert duckdb.__version__ == "1.5.5"
    for name in NEEDED:
        path = package_file(name)
        assert path.is_file() and path.parent.name == f"v{duckdb.__version__}"


def test_the_duckdb_shell_installed_with_newsflow_is_the_same_version():
    shell = Path(sys.executable).with_name("duckdb")
    assert shell.is_file(), "the duckdb-cli package installs bin/duckdb beside python"
    done = subprocess.run([str(shell), "--version"], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.split()[0] == f"v{duckdb.__version__}"


def test_extensions_install_from_the_package_files_into_newsflows_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSFLOW_CACHE_DIR", str(tmp_path / "cache"))
    con = duckdb.connect()
    load_extensions(con, "fts", "ducklake", "sqlite_scanner")
    rows = con.execute(
        "SELECT extension_name, install_path, installed_from FROM duckdb_extensions() "
        "WHERE loaded AND extension_name IN ('fts', 'ducklake', 'sqlite_scanner') ORDER BY 1"
    ).fetchall()
    assert [r[0] for r in rows] == ["ducklake", "fts", "sqlite_scanner"]
    for name, install_path, installed_from in rows:
        assert Path(install_path).is_relative_to(tmp_path / "cache" / "duckdb_extensions")
        assert installed_from == str(package_file(name))  # the package's file, not a repository URL
    assert extension_directory() == tmp_path / "cache" / "duckdb_extensions"
    # A second connection finds them installed and loads them without installing again.
    again = duckdb.connect()
    load_extensions(again, "fts")
    assert again.execute("SELECT stem('running', 'porter')").fetchone() == ("run",)


def test_an_extension_without_its_package_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSFLOW_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(ExtensionMissing, match="pip install duckdb-extension-vss==1.5.5"):
        load_extensions(duckdb.connect(), "vss")
