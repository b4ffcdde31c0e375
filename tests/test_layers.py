"""The layers of docs/architecture.md hold, and an import the wrong way breaks `make lint`."""

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
# The packages import-linter checks, as `make lint` reads them
ROOT_PACKAGES: list[str] = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"][
    "root_packages"
]


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_project_keeps_its_layers() -> None:
    result = lint_imports(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("importer", "imported"),
    [
        ("shop_app", "commerce"),  # the lowest layer imports a higher one
        ("privacy", "commerce"),
        ("commerce", "webhooks"),
        ("personalize", "loyalty"),  # two apps on one layer
    ],
)
def test_an_import_the_wrong_way_breaks_the_contract(tmp_path: Path, importer: str, imported: str) -> None:
    # Given a copy of the apps in which one imports what its layer may not
    copy = tmp_path / "project"
    copy.mkdir()
    shutil.copy(ROOT / "pyproject.toml", copy)
    for package in ROOT_PACKAGES:
        shutil.copytree(ROOT / package, copy / package, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / importer / "wrong_way.py").write_text(f"from {imported}.models import *  # noqa: F403\n")

    # When import-linter checks it
    result = lint_imports(copy)

    # Then the contract is broken, naming the import
    assert result.returncode != 0
    assert f"{importer} is not allowed to import {imported}" in result.stdout
    assert f"{importer}.wrong_way -> {imported}.models" in result.stdout
