"""The tests' SMTP server, run as its own process by aiosmtpd's command line:
`python -m aiosmtpd -n -l 127.0.0.1:PORT -c tests.newsletters.smtp_server.SlowMailbox DIR SECONDS`.
It keeps every message it accepts in a Maildir, each after a pause (so that a test can stop a
worker while it is sending)."""

import asyncio
from typing import Any

from aiosmtpd.handlers import Mailbox


class SlowMailbox(Mailbox):
    def __init__(self, mail_dir: str, seconds: str = "0") -> None:
        super().__init__(mail_dir)
        self.seconds = float(seconds)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.seconds:
            await asyncio.sleep(self.seconds)
        return str(await super().handle_DATA(server, session, envelope))

    @classmethod
    def from_cli(cls, parser: Any, *args: str) -> "SlowMailbox":
        if not args:
            parser.error("the mail directory is required")
        return cls(*args[:2])
