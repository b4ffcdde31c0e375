"""The bench's SMTP server: aiosmtpd's own command line on uvloop's event loop.

`python -m bench.smtp_sink -n -l 127.0.0.1:PORT -c aiosmtpd.handlers.Sink` is `python -m aiosmtpd`
with the same arguments: a real SMTP server process speaking SMTP on loopback, accepting and
dropping each message. uvloop (libuv) runs its transports for about two thirds of the processor time
asyncio's own loop takes, so that the server is less of the limit of what the newsletter bench
measures; the SMTP conversation, its parser and its handler are aiosmtpd's, unchanged.
"""

import asyncio
import sys

import uvloop
from aiosmtpd.main import main

if __name__ == "__main__":
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    sys.exit(main())
