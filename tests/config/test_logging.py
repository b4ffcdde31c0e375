import logging

import pytest
from django.test import Client

from config.logging import RedactSecretsFilter, redact


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("token shpat_0123456789abcdef in a message", "shpat_0123456789abcdef"),
        ("Authorization: Bearer abc.def.ghi", "abc.def.ghi"),
        ("id_token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-nature", "eyJhbGciOiJIUzI1NiJ9"),
        ('{"access_token": "atkn-secret-value"}', "atkn-secret-value"),
        ("refresh_token=rt-secret&x=1", "rt-secret"),
    ],
)
def test_secrets_are_redacted_from_log_text(text: str, secret: str) -> None:
    cleaned = redact(text)

    assert secret not in cleaned
    assert "[redacted]" in cleaned


def test_the_filter_rewrites_records_with_arguments() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "exchanged %s", ("shpat_secret123",), None)

    RedactSecretsFilter().filter(record)

    assert record.getMessage() == "exchanged [redacted]"


def test_every_response_carries_a_request_id(client: Client, db: None) -> None:
    generated = client.get("/healthz")
    echoed = client.get("/healthz", headers={"X-Request-ID": "lb-request-12345"})
    refused = client.get("/healthz", headers={"X-Request-ID": "bad id\nwith newline"})

    assert len(generated["X-Request-ID"]) == 32
    assert echoed["X-Request-ID"] == "lb-request-12345"
    assert refused["X-Request-ID"] != "bad id\nwith newline"
