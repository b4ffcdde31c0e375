"""Topic names Shopify uses, in one place."""

from shop_app.app_config import app_toml

# Shopify's mandatory compliance topics, as shopify.app.toml subscribes to them. They arrive after
# uninstall (shop/redact 48 hours later), so intake accepts them from uninstalled shops, and
# acknowledges them for shops we no longer know.
PRIVACY_TOPICS = frozenset(app_toml().compliance_topics)

APP_UNINSTALLED = "app/uninstalled"

# Topics processed for a shop that is not installed: the privacy topics arrive after an uninstall
# by design, and app/uninstalled is what makes a shop uninstalled. Read by intake and processing.
TOPICS_FOR_UNINSTALLED_SHOPS = PRIVACY_TOPICS | {APP_UNINSTALLED}
