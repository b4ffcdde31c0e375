"""Emails written straight to their MIME text.

Django's EmailMultiAlternatives.message() builds a tree of the standard library's MIME objects, and
its SMTP backend flattens that tree with email.generator; for a newsletter this costs more than
rendering the email, since every header of the message and of each part goes through the
library's folding machinery (and each multipart compiles a regular expression for its boundary).
WrittenEmail writes the same message directly: the same headers, each encoded by Django's own
rules (forbid_multi_line_headers: RFC 2047 for what is not ASCII, a refusal for a line break), and
multipart/alternative with a text/plain and a text/html part in UTF-8, 7bit or 8bit as Django
chooses. Django's backends get a real Message of that shape whose as_bytes() is this text.

What falls outside that shape (attachments, other alternatives, a body line longer than SMTP
allows, which Django sends quoted-printable) goes through Django's own message().
"""

from __future__ import annotations

import random
import sys
from email.message import Message
from email.utils import formatdate, make_msgid
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import RFC5322_EMAIL_LINE_LENGTH_LIMIT, forbid_multi_line_headers
from django.core.mail.utils import DNS_NAME

# A header line is folded past this many characters (RFC 5322's "should"), never past the limit.
FOLD_AT = 78
# Django's message() sets these itself, from the message's fields (an extra header wins).
ADDRESS_FIELDS = {"from", "to", "cc", "reply-to"}


class Unwritable(Exception):
    """The message is not of the shape WrittenEmail writes: Django's message() writes it."""


class WrittenEmail(EmailMultiAlternatives):
    """An EmailMultiAlternatives (a text body and its HTML) whose MIME form is written directly."""

    def message(self) -> Any:
        try:
            return written_message(self)
        except Unwritable:
            return super().message()


class WrittenMessage(Message):
    """A message tree as Django's message() would build it, with the text it was written from:
    as_bytes() and as_string() give that text rather than generate it again."""

    written: str

    def as_bytes(self, unixfrom: bool = False, linesep: str = "\n", policy: Any = None) -> bytes:  # type: ignore[override]
        if unixfrom or policy is not None:
            return super().as_bytes(unixfrom, policy)
        return self.as_string(linesep=linesep).encode("utf-8")

    def as_string(  # type: ignore[override]
        self, unixfrom: bool = False, linesep: str = "\n", maxheaderlen: int = 0, policy: Any = None
    ) -> str:
        if unixfrom or maxheaderlen or policy is not None:
            return super().as_string(unixfrom, maxheaderlen, policy)
        return self.written if linesep == "\n" else self.written.replace("\n", linesep)

    def __bytes__(self) -> bytes:
        return self.as_bytes()

    def __str__(self) -> str:
        return self.as_string()


def written_message(email: EmailMultiAlternatives) -> WrittenMessage:
    """The email's MIME message, written directly (see the module's docstring); Unwritable if it
    is not a text body with one HTML alternative in UTF-8."""
    encoding = email.encoding or settings.DEFAULT_CHARSET
    [(html, mimetype)] = email.alternatives if len(email.alternatives) == 1 else [("", "")]
    if email.attachments or not email.body or mimetype != "text/html" or str(encoding).lower() != "utf-8":
        raise Unwritable("not a text body with one HTML alternative in UTF-8")
    parts = [_part("plain", str(email.body)), _part("html", str(html))]
    boundary = _boundary([text for text, _ in parts])
    headers = [
        ("Content-Type", f'multipart/alternative; boundary="{boundary}"'),
        ("MIME-Version", "1.0"),
        *(_encoded(name, value) for name, value in _message_headers(email)),
    ]
    # As email.generator lays out a multipart without preamble: the headers, a blank line, each
    # part after its delimiter line, the close delimiter; a line break before each delimiter
    # belongs to the delimiter (RFC 2046).
    written = "\n".join(_folded(name, value) for name, value in headers) + "\n\n"
    for index, (text, part_headers) in enumerate(parts):
        written += ("\n" if index else "") + f"--{boundary}\n"
        written += "".join(f"{name}: {value}\n" for name, value in part_headers) + "\n" + text
    written += f"\n--{boundary}--\n"
    message = WrittenMessage()
    message._headers = headers  # type: ignore[attr-defined]
    message.set_payload([_part_message(part_headers, text) for text, part_headers in parts])
    message.written = written
    return message


def _message_headers(email: EmailMultiAlternatives) -> list[tuple[str, str]]:
    """The message's headers in the order Django's message() sets them."""
    extra = {str(name): str(value) for name, value in email.extra_headers.items()}
    named = {name.lower() for name in extra}
    headers = [("Subject", str(email.subject)), ("From", extra.get("From", str(email.from_email)))]
    for name, values in (("To", email.to), ("Cc", email.cc), ("Reply-To", email.reply_to)):
        if name in extra or values:
            headers.append((name, extra.get(name, ", ".join(str(value) for value in values))))
    if "date" not in named:
        headers.append(("Date", formatdate(localtime=settings.EMAIL_USE_LOCALTIME)))
    if "message-id" not in named:
        headers.append(("Message-ID", make_msgid(domain=DNS_NAME)))
    return headers + [(name, value) for name, value in extra.items() if name.lower() not in ADDRESS_FIELDS]


def _encoded(name: str, value: str) -> tuple[str, str]:
    """The header as Django's message() stores it: RFC 2047 for what is not ASCII (and for a
    subject), a line break refused (BadHeaderError: no header injection)."""
    if name == "Subject" or not value.isascii():
        return _encoded_once(name, value)  # the same for every reader of an issue
    return forbid_multi_line_headers(name, value, "utf-8")


@lru_cache(maxsize=256)
def _encoded_once(name: str, value: str) -> tuple[str, str]:
    return forbid_multi_line_headers(name, value, "utf-8")


def _folded(name: str, value: str) -> str:
    """`Name: value` on lines of at most FOLD_AT characters where spaces allow (RFC 5322 folding:
    a line break before a space)."""
    line = f"{name}: {value}"
    if "\n" in value or len(line) <= FOLD_AT:
        return line  # short, or folded by its encoding already
    folded: list[str] = []
    current = ""
    for word in line.split(" "):
        if current and len(current) + 1 + len(word) > FOLD_AT:
            folded.append(current)
            current = " " + word
        else:
            current = f"{current} {word}" if current else word
    folded.append(current)
    if any(len(part) > RFC5322_EMAIL_LINE_LENGTH_LIMIT for part in folded):
        raise Unwritable(f"the {name} header has a word longer than a line may be")
    return "\n".join(folded)


def _part(subtype: str, body: str) -> tuple[str, list[tuple[str, str]]]:
    """One text part: its text (lines ended by \\n) and its headers as Django's SafeMIMEText
    sets them (8bit unless the text is ASCII)."""
    text = body.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    # A character is at most 4 bytes in UTF-8: only a line that long in characters is measured.
    if max(map(len, lines)) * 4 > RFC5322_EMAIL_LINE_LENGTH_LIMIT and any(
        len(line.encode()) > RFC5322_EMAIL_LINE_LENGTH_LIMIT for line in lines
    ):
        # Django sends such a body quoted-printable, which shortens its lines.
        raise Unwritable("a body line is longer than SMTP allows")
    return text, [
        ("Content-Type", f'text/{subtype}; charset="utf-8"'),
        ("MIME-Version", "1.0"),
        ("Content-Transfer-Encoding", "7bit" if text.isascii() else "8bit"),
    ]


def _part_message(headers: list[tuple[str, str]], text: str) -> Message:
    """The part as the tree holds it (its 8bit text as a parser keeps it)."""
    part = Message()
    part._headers = list(headers)  # type: ignore[attr-defined]
    part.set_payload(text.encode("utf-8"))
    return part


def _boundary(texts: list[str]) -> str:
    """A boundary as the standard library makes one, found in none of the parts."""
    while True:
        boundary = "=" * 15 + f"{random.randrange(sys.maxsize):019d}" + "=="  # noqa: S311 - not a secret
        if not any(f"--{boundary}" in text for text in texts):
            return boundary
