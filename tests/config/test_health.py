import pytest
from django.db import OperationalError
from django.test import Client

from config.celery import app as celery_app
from shop_app.heartbeats import heartbeat_record


def test_healthz_is_ok_when_database_and_broker_answer(client: Client, db: None) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "down": [],
        "checks": {"database": True, "broker": True},
        "worker_last_seen": None,
    }


def test_healthz_reports_when_a_worker_last_ran_the_heartbeat(client: Client, db: None) -> None:
    heartbeat = heartbeat_record("worker")

    response = client.get("/healthz")

    assert response.json()["worker_last_seen"] == heartbeat.seen_at.isoformat()


def test_healthz_names_the_broker_when_it_is_down(
    client: Client, db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a broker address where nothing listens. Celery reads the environment before its
    # config, so patch both, config first: monkeypatch must save the config's own old value.
    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["down"] == ["broker"]


def test_healthz_names_the_database_when_it_is_down(
    client: Client, db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OperationalError("connection refused")

    # Undone before the test database is torn down, which needs a working cursor.
    with monkeypatch.context() as patch:
        patch.setattr("config.health.connection.cursor", refuse)
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["down"] == ["database"]
