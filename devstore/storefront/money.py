"""Money as a Shopify theme prints it.

Liquid prices are integers in hundredths of the shop's currency ("cents"); the money filters fill
the shop's currency format, such as "${{amount}}" or "€{{amount_with_comma_separator}}" (Settings >
General > Store currency), whose placeholder says how to write the number.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# Shopify's default "HTML without currency" format for a store currency; any other currency is
# written "{{amount}} CODE". The "with currency" format is this one followed by the code.
MONEY_FORMATS = {
    "AUD": "${{amount}}",
    "CAD": "${{amount}}",
    "CHF": "CHF {{amount}}",
    "DKK": "{{amount_with_comma_separator}} kr",
    "EUR": "€{{amount_with_comma_separator}}",
    "GBP": "£{{amount}}",
    "INR": "₹{{amount}}",
    "JPY": "¥{{amount_no_decimals}}",
    "NOK": "{{amount_with_comma_separator}} kr",
    "NZD": "${{amount}}",
    "SEK": "{{amount_with_comma_separator}} kr",
    "USD": "${{amount}}",
}

# Each placeholder: decimals, thousands separator, decimal separator.
PLACEHOLDERS = {
    "amount": (2, ",", "."),
    "amount_no_decimals": (0, ",", ""),
    "amount_with_comma_separator": (2, ".", ","),
    "amount_no_decimals_with_comma_separator": (0, ".", ""),
    "amount_with_apostrophe_separator": (2, "'", "."),
    "amount_with_space_separator": (2, " ", ","),
    "amount_no_decimals_with_space_separator": (0, " ", ""),
    "amount_with_period_and_space_separator": (2, " ", "."),
}
PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def money_format_for(currency: str) -> str:
    """The shop's `money_format` for its currency."""
    return MONEY_FORMATS.get(currency, f"{{{{amount}}}} {currency}")


def money_with_currency_format_for(currency: str) -> str:
    """The shop's `money_with_currency_format`: "$10.00 USD"."""
    return f"{money_format_for(currency)} {currency}"


def money_number(cents: object, placeholder: str = "amount", *, trailing_zeros: bool = True) -> str | None:
    """The number alone, written as `placeholder` says: 113465 -> "1,134.65" for {{amount}},
    "1.134,65" for {{amount_with_comma_separator}}. None when `cents` is not a number.
    Without trailing_zeros, a whole amount has no decimals: "1,134"."""
    try:
        value = Decimal(str(cents)) / 100
    except (InvalidOperation, ValueError):
        return None
    if not value.is_finite():
        return None
    decimals, thousands, point = PLACEHOLDERS.get(placeholder, PLACEHOLDERS["amount"])
    if not trailing_zeros and value == value.to_integral_value():
        decimals = 0
    rounded = value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    whole, _, fraction = f"{abs(rounded):f}".partition(".")
    grouped = f"{int(whole):,}".replace(",", thousands)
    sign = "-" if rounded < 0 else ""
    return sign + grouped + (point + fraction if decimals else "")


def money_format(cents: object, template: str, *, trailing_zeros: bool = True) -> str:
    """Fill a Shopify money format with a price in cents: (13600, "${{amount}}") -> "$136.00".

    As Shopify's filters do, nil prints nothing and anything else that is not a number prints as
    it is.
    """
    if cents is None:
        return ""
    match = PLACEHOLDER.search(template)
    placeholder = match.group(1) if match else "amount"
    number = money_number(cents, placeholder, trailing_zeros=trailing_zeros)
    if number is None:
        return str(cents)
    if match is None:
        return number
    return template[: match.start()] + number + template[match.end() :]


def money_format_placeholder(template: str) -> str:
    """The format's number part alone ("{{amount}}"), for money_without_currency."""
    match = PLACEHOLDER.search(template)
    return match.group(0) if match else "{{amount}}"
