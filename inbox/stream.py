"""GET /api/inbox/stream/: the live inbox as Server-Sent Events.

A plain async Django view, not DRF (DRF's content negotiation answers 406 to ``Accept:
text/event-stream``). Messages: ``event: notification`` with the API's notification JSON
(NotificationSerializer's, rendered by inbox.rendering through the privacy policy: ``actor`` is null for a
share) and ``event: unread_count`` with ``{total, by_category, capped}``. Every message's ``id:`` is the user's
stream sequence number; reconnecting with ``Last-Event-ID`` replays the log after it. ``: ok`` is sent on
connect and as a keep-alive.

What a writer pushes (``live.Push``) is sent as it comes when it continues the stream; anything else (a gap,
a wake-up, a quiet keep-alive interval) makes the stream read its log from the database.
"""

import time

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from . import live, selectors, stream_log
from .models import StreamEntry

# Log entries read per database round trip; a long-missed stream catches up in several.
BATCH_SIZE = 500


def _messages_after(user, seq: int) -> tuple[list[str], int, bool]:
    """The messages for the log after ``seq``, the new position, and whether more entries wait."""
    entries = list(
        StreamEntry.objects.filter(recipient=user, seq__gt=seq)
        .order_by("seq")
        .values_list("seq", "kind", "notification_id")[:BATCH_SIZE]
    )
    if not entries:
        return [], seq, False
    messages = stream_log.stream_messages(entries_by_user={user.pk: entries})[user.pk]
    return messages, entries[-1][0], len(entries) == BATCH_SIZE


def _pushed_after(pushes: list[live.Push | None], seq: int) -> tuple[list[str], int, bool]:
    """The pushed messages that continue the stream after ``seq``, the new position, and whether the log must be
    read: after a wake-up, a gap (pushes of two writers crossing), or a wait that brought nothing."""
    messages = []
    for push in pushes:
        if push is not None and push.last <= seq:
            continue  # already sent, from an earlier read of the log
        if push is None or push.first != seq + 1:
            return messages, seq, True
        messages += push.messages
        seq = push.last
    return messages, seq, not pushes


def _opening(user, last_event_id: int | None) -> tuple[list[str], int]:
    """The inbox is watched from now. A fresh connection starts at the current position with the current unread
    count; so does one whose ``Last-Event-ID`` cannot be replayed after (ahead of the stream, from before the
    replay window, or older than the kept log), which would otherwise wait, silent, for the sequence to reach it."""
    stream_log.stream_watched(user_id=user.pk)
    if last_event_id is not None and selectors.inbox_stream_replayable_after(user=user, seq=last_event_id):
        return [], last_event_id
    position = selectors.inbox_stream_position(user=user)
    counts = selectors.inbox_unread_counts(user=user)
    return [stream_log.sse_message(seq=position, event="unread_count", data=counts)], position


def _messages_watched(user, seq: int) -> tuple[list[str], int, bool]:
    """``_messages_after``, keeping the inbox watched while the stream is open."""
    stream_log.stream_watched(user_id=user.pk)
    return _messages_after(user, seq)


def _read_and_disconnect(read, *args):
    """Run one read of the stream, then close the connection: an idle stream holds none open."""
    try:
        return read(*args)
    finally:
        connection.close()


async def _event_stream(user, last_event_id: int | None):
    yield ": ok\n\n"
    async with live.subscribed(user.pk) as subscription:
        messages, position = await sync_to_async(_read_and_disconnect)(_opening, user, last_event_id)
        for message in messages:
            yield message
        last_write = last_watched = time.monotonic()
        read_log = True  # a replay starts from the log
        while True:
            watch_due = time.monotonic() - last_watched >= settings.INBOX_STREAM_KEEPALIVE_SECONDS
            if read_log or watch_due:
                read = _messages_after
                if watch_due:
                    read, last_watched = _messages_watched, time.monotonic()
                messages, position, read_log = await sync_to_async(_read_and_disconnect)(read, user, position)
            else:
                messages, position, read_log = _pushed_after(await subscription.wait(), position)
            for message in messages:
                yield message
            if messages:
                last_write = time.monotonic()
            elif time.monotonic() - last_write >= settings.INBOX_STREAM_KEEPALIVE_SECONDS:
                yield ": ok\n\n"
                last_write = time.monotonic()


def _stream_user(request: HttpRequest):
    """The user from a token (API clients) or the session (pages), or None."""
    try:
        authenticated = TokenAuthentication().authenticate(request)
    except AuthenticationFailed:
        return None
    user = authenticated[0] if authenticated else request.user
    return user if user.is_authenticated else None


def _last_event_id(request: HttpRequest) -> int | None:
    value = request.headers.get("Last-Event-ID", "").strip()
    return int(value) if value.isdigit() else None


@csrf_exempt  # GET only: any other method is a 405, which the CSRF check would turn into a 403 page
@require_GET
async def inbox_stream(request: HttpRequest):
    user = await sync_to_async(_read_and_disconnect)(_stream_user, request)
    if user is None:
        return JsonResponse(
            {"detail": "Authentication credentials were not provided."},
            status=401,
            headers={"WWW-Authenticate": "Token"},
        )
    response = StreamingHttpResponse(
        _event_stream(user, _last_event_id(request)), content_type="text/event-stream; charset=utf-8"
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response
