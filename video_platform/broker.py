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

from queue import Empty

from kombu.transport import redis


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
