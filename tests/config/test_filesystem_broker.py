"""The development broker (config.celery.FilesystemTransport): kombu's filesystem transport with
messages written whole before any reader can see them (celery/kombu#1551)."""

import os
from pathlib import Path

from kombu import Connection

from config.celery import FilesystemChannel


def test_a_message_is_written_whole_under_its_final_name_and_read_back(tmp_path: Path) -> None:
    folder = tmp_path / "broker"
    folder.mkdir()
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder)}

    with Connection("filesystem://localhost/", transport_options=options) as connection:
        assert isinstance(connection.default_channel, FilesystemChannel)
        queue = connection.SimpleQueue("omakase-test")
        queue.put({"event": 1})

        # Only the finished file is in the folder: no partial one is left for a reader to take
        names = os.listdir(folder)
        assert len(names) == 1
        assert names[0].endswith(".omakase-test.msg")

        message = queue.get(timeout=2)
        assert message.payload == {"event": 1}
        message.ack()
        queue.close()
