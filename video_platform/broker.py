"""Kombu's Redis transport with one fix: a worker survives losing Redis while a BRPOP is in flight.

On a lost connection Celery closes the consumer's channel twice (``Connection.collect()``, then
``close()``). With a BRPOP in flight, Kombu 5.7's first close re-raises the read error before it marks
the channel closed; the second close then tries to put the worker's unacknowledged messages back
through a transport already detached from its connection, and the worker dies with "Unrecoverable
error: AttributeError: 'NoneType' object has no attribute 'hostname'" (reproduced by restarting Redis
under load; tests/test_faults.py). Here the dead BRPOP's reply is dropped, so the first close finishes.
Nothing is lost: the unacknowledged messages stay in Redis until the visibility timeout restores them,
and the outbox sweeper re-sends whatever Redis itself lost.
"""

import os
import uuid
from queue import Empty
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem, redis
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(redis.Channel):
    def close(self):
        if self._in_poll:
            try:
                self._brpop_read()
            except (Empty, *self.connection_errors):
                pass  # The reply of a BRPOP on a dead connection: there is none to read.
        super().close()


class Transport(redis.Transport):
    Channel = Channel


class FilesystemChannel(filesystem.Channel):
    """Kombu's filesystem channel, publishing each message whole.

    Stock Kombu 5.7 creates the ``.msg`` file, then writes it: a worker listing the folder in between
    takes the empty file and dies ("Unrecoverable error: JSONDecodeError"), which concurrent requests
    (a scenario's ``parallel:`` step) caught. Here the message is written under a name the worker
    ignores and renamed into place, which is atomic.
    """

    def _put(self, queue, payload, **kwargs):
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = final + ".part"  # the worker takes only names ending in .<queue>.msg
        try:
            with open(partial, "wb") as file:
                file.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class FilesystemTransport(filesystem.Transport):
    Channel = FilesystemChannel
