"""devstore's mail catcher: an SMTP server (aiosmtpd) in devstore's process that keeps the last
messages it receives, and a page that lists them, for the demo's newcomer to read what the app
sends (confirmation requests, issues) and follow their links. Started when DEVSTORE_SMTP_PORT is
set (`make demo` sets it and points the app's EMAIL_URL at it); nothing is relayed anywhere."""

from __future__ import annotations

import html
import os
import re
import threading
from collections import deque
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

KEPT = 200
LINK = re.compile(r"(https?://[^\s<>\"]+)")


class MailCatcher:
    def __init__(self) -> None:
        self.messages: deque[dict[str, Any]] = deque(maxlen=KEPT)
        self.lock = threading.Lock()
        self.controller: Controller | None = None
        self.counter = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        text = parsed.get_body(preferencelist=("plain",))
        rich = parsed.get_body(preferencelist=("html",))
        with self.lock:
            self.counter += 1
            self.messages.appendleft(
                {
                    "id": self.counter,
                    "received_at": datetime.now(UTC).isoformat(),
                    "from": str(parsed["From"] or ""),
                    "to": list(envelope.rcpt_tos),
                    "subject": str(parsed["Subject"] or ""),
                    "headers": {name: str(value) for name, value in parsed.items()},
                    "text": text.get_content() if text is not None else "",
                    "html": rich.get_content() if rich is not None else "",
                }
            )
        return "250 Message accepted for delivery"

    def start(self, port: int) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def listed(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.messages)


catcher = MailCatcher()


def mail_catcher_start() -> None:
    port = os.environ.get("DEVSTORE_SMTP_PORT", "")
    if port.isdigit():
        catcher.start(int(port))


def mail_catcher_stop() -> None:
    catcher.stop()


def _linked(text: str) -> str:
    return LINK.sub(
        lambda found: f'<a href="{found.group(1)}">{found.group(1)}</a>', html.escape(text, quote=False)
    )


async def mail_page(request: Request) -> Response:
    rows = []
    for message in catcher.listed():
        headers = "".join(
            f"<div><b>{html.escape(name)}</b>: {html.escape(value)}</div>"
            for name, value in message["headers"].items()
            if name.lower().startswith("list-")
        )
        frame = (
            '<iframe sandbox="allow-popups allow-top-navigation-by-user-activation" '
            f'srcdoc="{html.escape(message["html"])}" class="html"></iframe>'
            if message["html"]
            else ""
        )
        sender, recipients = html.escape(message["from"]), html.escape(", ".join(message["to"]))
        text = _linked(message["text"])
        rows.append(
            f'<article class="mail" data-id="{message["id"]}"><h2>{html.escape(message["subject"])}</h2>'
            f"<p>{sender} → {recipients} · {message['received_at']}</p>"
            f"{headers}<details open><summary>HTML</summary>{frame}</details>"
            f'<details><summary>Text</summary><pre class="text">{text}</pre></details></article>'
        )
    listening = f"SMTP on 127.0.0.1:{catcher.controller.port}" if catcher.controller else "not listening"
    body = "".join(rows) or "<p>No mail yet.</p>"
    return HTMLResponse(
        "<!doctype html><html><head><meta charset='utf-8'><title>devstore mail</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:900px;margin:24px auto}"
        "article{border-bottom:1px solid #ddd;padding:12px 0}pre{white-space:pre-wrap}"
        "iframe.html{width:100%;height:420px;border:1px solid #ddd}</style></head>"
        f"<body><h1>Mail received by devstore</h1><p>{listening}; the newest first.</p>{body}</body></html>"
    )


async def mail_json(request: Request) -> Response:
    return JSONResponse({"messages": catcher.listed()})


def routes() -> list[Route]:
    return [
        Route("/_devstore/mail", mail_page, methods=["GET"]),
        Route("/_devstore/mail.json", mail_json, methods=["GET"]),
    ]
