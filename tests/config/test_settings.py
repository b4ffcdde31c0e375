import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_production_settings(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = "import django; django.setup()"
    return subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings.production", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_its_secrets() -> None:
    result = run_production_settings({})

    assert result.returncode != 0
    assert "Production needs these environment variables" in result.stderr
    assert "SHOPIFY_API_SECRET" in result.stderr
    assert "REDIS_URL" in result.stderr


def test_production_starts_when_every_secret_is_given(tmp_path: Path) -> None:
    result = run_production_settings(
        {
            "DJANGO_SECRET_KEY": "x" * 50,
            "SHOPIFY_API_KEY": "key",
            "SHOPIFY_API_SECRET": "secret",
            "APP_URL": "https://omakase.example",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
            "REDIS_URL": "redis://127.0.0.1:6379/1",
            "TOKEN_ENCRYPTION_KEYS": "a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U=",
            "DJANGO_ALLOWED_HOSTS": "omakase.example",
        }
    )

    assert result.returncode == 0, result.stderr
