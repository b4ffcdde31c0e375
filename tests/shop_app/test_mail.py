"""The SMTP backend hands SMTP the envelope addresses Django's own would: plain ones as they are,
the others through Django's sanitize_address, its refusals included."""

import pytest
from django.core.mail.message import sanitize_address

from shop_app.mail import envelope_address

ADDRESSES = [
    "reader@example.com",
    "Reader.Name+news@Mail.Example.CO.JP",
    "o'brien@example.com",
    "a!#$%&'*+/=?^_`{|}~-z@x-y.example",
    '"Shop" <news@shop.example>',
    "Shop <news@shop.example>",
    "Café <news@shop.example>",
    "news@bücher.example",
    "ré@example.com",
    '"first last"@example.com',
    "reader@" + "x" * 63 + ".example",
    ("Shop", "news@shop.example"),
    "reader.@example.com",  # accepted by Django's parser as it is
    "no address",  # taken as a local part
]
REFUSED = [
    "reader@" + "x" * 64 + ".example",  # a label longer than IDNA allows
    "reader@example.com\nBcc: other@example.com",
    "reader@example..com",
    "reader@example.com, other@example.com",
]


@pytest.mark.parametrize("address", ADDRESSES)
def test_envelope_address_is_what_django_sends(address: str | tuple[str, str]) -> None:
    assert envelope_address(address, "utf-8") == sanitize_address(address, "utf-8")


@pytest.mark.parametrize("address", REFUSED)
def test_an_address_django_refuses_is_refused(address: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        sanitize_address(address, "utf-8")

    with pytest.raises(ValueError, match=r"."):
        envelope_address(address, "utf-8")
