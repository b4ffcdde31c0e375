"""Shop domains: the one place that says what a myshopify domain looks like."""

import re

# Anchored at both ends: a shop parameter must be exactly a myshopify domain, nothing around it.
SHOP_DOMAIN_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,60}\.myshopify\.com$")


def shop_domain_is_valid(domain: str) -> bool:
    return bool(SHOP_DOMAIN_PATTERN.fullmatch(domain))


def shop_domain_normalize(domain: str) -> str | None:
    """The canonical form of a shop domain, or None if it is not a valid myshopify domain."""
    candidate = domain.strip().lower()
    return candidate if shop_domain_is_valid(candidate) else None
