"""Fixtures of the newsletters tests: a real SMTP server process (aiosmtpd) that keeps what it
accepts in a Maildir, Django pointed at it, and a shop with its sender's details and two topics."""

import mailbox
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

from newsletters.models import NewsletterSettings, Topic
from shop_app.models import Shop
from tests.live import ROOT, free_port


@dataclass
class SmtpServer:
    port: int
    mail_dir: Path
    process: subprocess.Popen[bytes]

    def messages(self) -> list[Message]:
        box = mailbox.Maildir(self.mail_dir, create=False)
        return [box.get_message(key) for key in sorted(box.keys())]

    def clear(self) -> None:
        mailbox.Maildir(self.mail_dir, create=False).clear()

    def wait_for(self, count: int, timeout: float = 20) -> list[Message]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.messages()
            if len(found) >= count:
                return found
            time.sleep(0.05)
        pytest.fail(f"{count} emails expected, {len(self.messages())} arrived")


def smtp_server_start(mail_dir: Path, seconds: float = 0.0) -> SmtpServer:
    mailbox.Maildir(mail_dir, create=True)
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "tests.newsletters.smtp_server.SlowMailbox",
            str(mail_dir),
            str(seconds),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return SmtpServer(port, mail_dir, process)
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.1)
    process.kill()
    pytest.fail("the SMTP server did not start")


@pytest.fixture(scope="session")
def smtp_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpServer]:
    server = smtp_server_start(tmp_path_factory.mktemp("maildir") / "mail")
    yield server
    server.process.terminate()
    server.process.wait(timeout=10)


def smtp_settings(port: int) -> dict[str, Any]:
    return {
        "EMAIL_BACKEND": "shop_app.mail.SmtpBackend",  # what EMAIL_URL smtp:// gives
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": port,
        "EMAIL_USE_TLS": False,
        "EMAIL_USE_SSL": False,
        "EMAIL_HOST_USER": "",
        "EMAIL_HOST_PASSWORD": "",
    }


@pytest.fixture
def smtp(smtp_process: SmtpServer, settings: Any) -> SmtpServer:
    """The SMTP server, emptied, with Django sending to it."""
    smtp_process.clear()
    for name, value in smtp_settings(smtp_process.port).items():
        setattr(settings, name, value)
    settings.APP_URL = "https://omakase.example"
    settings.NEWSLETTER_SEND_RATE_PER_SECOND = 0
    return smtp_process


def topics_create(shop: Shop) -> tuple[Topic, Topic]:
    NewsletterSettings.objects.create(
        shop=shop,
        sender_name="Maison Test",
        from_email="news@maison.example",
        postal_address="1-2-3 Jingumae, Shibuya-ku, Tokyo 150-0001, Japan",
        contact_email="hello@maison.example",
    )
    arrivals = Topic.objects.create(
        shop=shop,
        handle="new-arrivals",
        names={"en": "New arrivals", "ja": "新着"},
        descriptions={"en": "What just came in.", "ja": "入荷したばかりのもの。"},
        cadences=["weekly", "monthly"],
        sections=[
            {
                "heading": {"en": "Spring is here", "ja": "春が来た"},
                "body": {"en": "Light layers.", "ja": "軽い重ね着。"},
            }
        ],
        tags=["new"],
        position=0,
    )
    care = Topic.objects.create(
        shop=shop,
        handle="care-tips",
        names={"en": "Care tips", "ja": "お手入れ"},
        cadences=["monthly", "quarterly"],
        sections=[{"heading": {"en": "Wool, washed right"}, "body": {"en": "Cold water, flat to dry."}}],
        position=1,
    )
    return arrivals, care


@pytest.fixture
def topics(shop: Shop) -> tuple[Topic, Topic]:
    return topics_create(shop)
