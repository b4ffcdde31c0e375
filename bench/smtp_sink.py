"""The bench's SMTP servers, each a process of its own on loopback, reading every message and
keeping none.

`python -m bench.smtp_sink PORT` is a lean one, written for the bench: the SMTP of RFC 5321 that a
sender needs (greeting, EHLO or HELO, MAIL, RCPT, DATA with its dot-stuffing and its end, RSET,
NOOP, QUIT, 503 for a command out of order, 500 for the rest), as one asyncio protocol on uvloop's
event loop that reads each message whole from its buffer. On TERM it writes how many messages and
bytes it took, so the bench can check that every email reached it. It takes about an eighth of the
processor time aiosmtpd takes for a newsletter (0.2 ms against 1.3 to 1.6 on a loaded machine;
aiosmtpd's is mostly its command loop, stream reader and logging, and reading DATA whole saves it a
quarter): the machine the bench runs on has two cores, and the server shares them with the workers
it measures, as a relay on another machine would not.

`python -m bench.smtp_sink --aiosmtpd -n -l 127.0.0.1:PORT -c aiosmtpd.handlers.Sink` is
aiosmtpd's own command line on uvloop, the server the tests use (tests/newsletters/smtp_server.py),
for the bench's figure against it.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable
from typing import cast

import uvloop
from aiosmtpd.main import main as aiosmtpd_main

# Replies, each a line ended by CRLF.
READY = b"220 bench-sink ESMTP\r\n"
HELLO = b"250-bench-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
OK = b"250 OK\r\n"
SEND_DATA = b"354 End data with <CR><LF>.<CR><LF>\r\n"
BYE = b"221 Bye\r\n"
OUT_OF_ORDER = b"503 Bad sequence of commands\r\n"
UNKNOWN = b"500 Command not recognized\r\n"
# What each command needs said before it: HELO or EHLO, MAIL, RCPT.
NEEDS = {b"MAIL": "hello", b"RCPT": "sender", b"DATA": "recipients"}


class Tally:
    """Messages and bytes taken, over every connection."""

    messages = 0
    bytes = 0


class SinkSession(asyncio.Protocol):
    """One SMTP connection: commands line by line, a message after DATA up to its lone dot."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's, not a subclass
        self.buffer = bytearray()
        self.reading_message = False
        self.said: set[str] = set()
        self.transport.write(READY)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while not self.transport.is_closing():
            if self.reading_message:
                if not self._message_end():
                    return
                continue
            end = self.buffer.find(b"\r\n")
            if end < 0:
                return
            line = bytes(self.buffer[:end])
            del self.buffer[: end + 2]
            self.transport.write(self._reply(line))

    def _reply(self, line: bytes) -> bytes:
        verb = line[:4].upper()
        command = COMMANDS.get(verb)
        if command is None:
            return UNKNOWN
        if verb in NEEDS and NEEDS[verb] not in self.said:
            return OUT_OF_ORDER
        return command(self)

    def _ehlo(self) -> bytes:
        self.said = {"hello"}
        return HELLO

    def _helo(self) -> bytes:
        self.said = {"hello"}
        return OK

    def _mail(self) -> bytes:
        self.said = {"hello", "sender"}
        return OK

    def _rcpt(self) -> bytes:
        self.said.add("recipients")
        return OK

    def _data(self) -> bytes:
        self.reading_message = True
        return SEND_DATA

    def _rset(self) -> bytes:
        self.said &= {"hello"}
        return OK

    def _noop(self) -> bytes:
        return OK

    def _quit(self) -> bytes:
        self.transport.write(BYE)
        self.transport.close()
        return b""

    def _message_end(self) -> bool:
        """Take the message if its end (a line of a lone dot) has come; False while it has not."""
        if self.buffer.startswith(b".\r\n"):
            size, end = 0, 3
        else:
            found = self.buffer.find(b"\r\n.\r\n")
            if found < 0:
                return False
            # Its lines as sent, less the dot that stuffing put before each line starting with one.
            size = found + 2 - self.buffer.count(b"\r\n.", 0, found) - self.buffer.startswith(b".")
            end = found + 5
        del self.buffer[:end]
        Tally.messages += 1
        Tally.bytes += size
        self.reading_message = False
        self.said &= {"hello"}
        self.transport.write(OK)
        return True


COMMANDS: dict[bytes, Callable[[SinkSession], bytes]] = {
    b"EHLO": SinkSession._ehlo,
    b"HELO": SinkSession._helo,
    b"MAIL": SinkSession._mail,
    b"RCPT": SinkSession._rcpt,
    b"DATA": SinkSession._data,
    b"RSET": SinkSession._rset,
    b"NOOP": SinkSession._noop,
    b"QUIT": SinkSession._quit,
}


def _tally_and_stop(loop: asyncio.AbstractEventLoop) -> None:
    sys.stdout.write(f"{Tally.messages} {Tally.bytes}\n")
    sys.stdout.flush()
    loop.stop()


def serve(port: int) -> None:
    loop = uvloop.new_event_loop()
    loop.run_until_complete(loop.create_server(SinkSession, host="127.0.0.1", port=port))
    loop.add_signal_handler(signal.SIGTERM, _tally_and_stop, loop)
    loop.run_forever()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--aiosmtpd"]:
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
        sys.exit(aiosmtpd_main(sys.argv[2:]))
    serve(int(sys.argv[1]))
