"""How a shopper's identifiers are written before we store or compare them: one form each, made
once where the data comes in, so that the query that finds a shopper and the one that erases them
can never disagree (a guest's `JANE.DOE@EXAMPLE.COM` is jane.doe@example.com everywhere)."""


def email_normalize(value: object) -> str:
    """An email address as we keep it: lower-case, without surrounding spaces. Mail providers treat
    addresses without regard to case, and so does Shopify when it matches a checkout to a customer."""
    return "" if value is None else str(value).strip().lower()
