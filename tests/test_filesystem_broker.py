"""The embedded broker (Kombu's filesystem transport, video_platform/broker.py) never hands a worker a message
that is still being written: concurrent publishers once killed the worker with a JSONDecodeError."""

import os
from queue import Empty

import pytest
from kombu import Connection
from kombu.exceptions import ChannelError

from video_platform import broker


@pytest.fixture
def channel(tmp_path):
    folder = str(tmp_path)
    options = {"data_folder_in": folder, "data_folder_out": folder, "processed_folder": folder}
    with Connection("filesystem://", transport=broker.FilesystemTransport, transport_options=options) as connection:
        yield connection.default_channel


def test_a_message_still_being_written_is_invisible_to_the_worker(channel, monkeypatch):
    def interrupted(partial, final):
        raise OSError("the publisher stopped between writing and publishing")

    monkeypatch.setattr(broker.os, "replace", interrupted)
    with pytest.raises(ChannelError):
        channel._put("celery", {"body": "half"})
    with pytest.raises(Empty):
        channel._get("celery")


def test_a_published_message_is_read_whole(channel):
    channel._put("celery", {"body": "whole"})
    assert channel._get("celery") == {"body": "whole"}
    assert not [name for name in os.listdir(channel.data_folder_in) if name.endswith(".part")]
