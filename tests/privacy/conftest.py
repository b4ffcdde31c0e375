"""Webhooks as Shopify sends them (`deliver`), shared with tests/webhooks."""

from tests.webhooks.conftest import deliver

__all__ = ["deliver"]
