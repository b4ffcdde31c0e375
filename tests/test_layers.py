"""The layers of docs/architecture.md hold, and an import the wrong way breaks `make lint`."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_project_keeps_its_layers() -> None:
    result = lint_imports(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_an_import_from_a_higher_layer_breaks_the_contract(tmp_path: Path) -> None:
    # Given a copy of the apps in which shop_app, the lowest layer, imports commerce
    copy = tmp_path / "project"
    copy.mkdir()
    shutil.copy(ROOT / "pyproject.toml", copy)
    for package in ("config", "webhooks", "personalize", "loyalty", "commerce", "privacy", "shop_app"):
        shutil.copytree(ROOT / package, copy / package, ignore=shutil.ignore_patterns("__pycache__"))
    wrong = copy / "shop_app" / "wrong_way.py"
    wrong.write_text("from commerce.models import Order  # noqa: F401\n")

    # When import-linter checks it
    result = lint_imports(copy)

    # Then the contract is broken, naming the import
    assert result.returncode != 0
    assert "shop_app is not allowed to import commerce" in result.stdout
    assert "shop_app.wrong_way -> commerce.models" in result.stdout
