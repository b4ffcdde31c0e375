"""Django's SMTP backend, with the envelope's addresses taken as they are when they are plain.

Django checks and encodes each envelope address (sanitize_address) by parsing it with the standard
library's RFC 5322 parser: about a tenth of a millisecond an address, two an email, as much as the
rest of handing a newsletter to SMTP. Most addresses are plain (`reader@example.com`: dot-atoms in
ASCII), which that parse gives back unchanged: those are recognised by a regular expression. The
others (a display name, a quoted local part, an international domain) go through sanitize_address
as before, each the first time this process sends from or to it (the sender's, once).
"""

from __future__ import annotations

import re
import smtplib
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.smtp import EmailBackend
from django.core.mail.message import sanitize_address

# A dot-atom local part at a domain of ASCII letters, digits and hyphens, each label of 1 to 63
# characters (which the IDNA codec passes unchanged): sanitize_address returns such an address as
# it is.
ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
PLAIN_ADDRESS = re.compile(rf"{ATEXT}(?:\.{ATEXT})*@[A-Za-z0-9-]{{1,63}}(?:\.[A-Za-z0-9-]{{1,63}})*")


def envelope_address(address: Any, encoding: str) -> str:
    """The address as Django's SMTP backend gives it to SMTP (sanitize_address), or its ValueError."""
    if isinstance(address, str):
        if PLAIN_ADDRESS.fullmatch(address):
            return address
        return _sanitized(address, encoding)
    return str(sanitize_address(address, encoding))


@lru_cache(maxsize=1024)
def _sanitized(address: str, encoding: str) -> str:
    return str(sanitize_address(address, encoding))


class SmtpBackend(EmailBackend):
    """Django's SMTP backend (settings: EMAIL_URL smtp://), its envelope addresses by
    envelope_address."""

    def _send(self, email_message: EmailMessage) -> bool:
        """Django's _send, but for how it reads the envelope's addresses."""
        if not email_message.recipients():
            return False
        encoding = email_message.encoding or settings.DEFAULT_CHARSET
        from_email = envelope_address(email_message.from_email, encoding)
        recipients = [envelope_address(address, encoding) for address in email_message.recipients()]
        message = email_message.message()
        assert self.connection is not None  # send_messages opened it
        try:
            self.connection.sendmail(from_email, recipients, message.as_bytes(linesep="\r\n"))
        except smtplib.SMTPException:
            if not self.fail_silently:
                raise
            return False
        return True
