"""The install: one import package, `newsflow`, with the design card's folders as its subpackages."""
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

EVERY_MODULE = """
import importlib, pkgutil, sys
import newsflow.extractors, newsflow.flows, newsflow.storage, newsflow.view
names = [m.name for p in (newsflow.extractors, newsflow.flows, newsflow.storage, newsflow.view)
         for m in pkgutil.walk_packages(p.__path__, p.__name__ + '.')]
for name in names:
    importlib.import_module(name)
bare = sorted(n for n in sys.modules if n.split('.')[0] in {'flows', 'extractors', 'storage', 'view'})
print(len(names), bare)
"""


def test_every_module_imports_from_any_folder_without_top_level_names(tmp_path):
    done = subprocess.run([sys.executable, "-c", EVERY_MODULE], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    count, bare = done.stdout.split(" ", 1)
    assert int(count) > 30  # flows, extractors and storage modules all found
    assert bare.strip() == "[]"


def test_the_wheel_holds_only_the_newsflow_package(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(REPO)],
                   check=True, capture_output=True, timeout=300)
    (wheel,) = tmp_path.glob("newsflow-*.whl")
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert tops == {"newsflow", wheel.name.split("-")[0] + "-" + wheel.name.split("-")[1] + ".dist-info"}
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"newsflow/storage/schema.sql", "newsflow/extractors/lexicons/en.txt", "newsflow/flows/cli.py",
            "newsflow/view/app.py", "newsflow/view/templates/article.html"} <= names
