"""The one parser of Shopify's ISO 8601 times, wherever they come from (payloads, headers, tokens)."""

import re
from datetime import UTC, datetime

# Shopify's X-Shopify-Triggered-At has nanoseconds; Python keeps microseconds.
_FRACTION = re.compile(r"(\.\d{6})\d+")


def iso_time_parse(value: str) -> datetime:
    """An aware UTC datetime from `2026-01-05T10:00:00Z`, `...+09:00`, nanoseconds included; a
    time without an offset is taken as UTC. Raises ValueError for anything else."""
    parsed = datetime.fromisoformat(_FRACTION.sub(r"\1", value.strip()).replace("Z", "+00:00"))
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
