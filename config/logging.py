"""Log hygiene: tokens and secrets never reach a log line, even by accident."""

import logging
import re

# Shopify access tokens (shpat_, shpca_, shpua_, shprt_ ...), bearer tokens and JWTs.
_SECRET_PATTERNS = (
    re.compile(r"\bshp[a-z]{2}_[A-Za-z0-9]+"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"),
    re.compile(
        r"(?i)((?:access_token|refresh_token|subject_token|client_secret|hmac)[\"']?\s*[:=]\s*[\"']?)[^\"'&\s,}]+"
    ),
)


def redact(text: str) -> str:
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "[redacted]", text)
    return text


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
