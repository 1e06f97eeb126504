"""GET /api/inbox/stream/: the live inbox as Server-Sent Events.

A plain async Django view, not DRF (DRF's content negotiation answers 406 to ``Accept:
text/event-stream``). Messages: ``event: notification`` with the API's notification JSON
(NotificationSerializer's, rendered by inbox.rendering through the privacy policy: ``actor`` is null for a
share) and ``event: unread_count`` with ``{total, by_category, capped}``. Every message's ``id:`` is the user's
stream sequence number; reconnecting with ``Last-Event-ID`` replays the log after it. ``: ok`` is sent on
connect and as a keep-alive.
"""

import json
import time

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.http import HttpRequest, JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from . import live, selectors, stream_log
from .api import NotificationSerializer
from .models import StreamEntry, StreamKind

# Log entries read per database round trip; a long-missed stream catches up in several.
BATCH_SIZE = 500


def _entries_after(user, seq: int) -> list[StreamEntry]:
    return list(StreamEntry.objects.filter(recipient=user, seq__gt=seq).order_by("seq")[:BATCH_SIZE])


def _sse(*, seq: int, event: str, data: dict) -> str:
    return f"id: {seq}\nevent: {event}\ndata: {json.dumps(data, cls=DjangoJSONEncoder)}\n\n"


def _messages_after(user, seq: int) -> tuple[list[str], int, bool]:
    """The messages for the log after ``seq``, the new position, and whether more entries wait.

    A notification bumped several times is sent once, as it is now, under its latest id; several
    unread-count changes are sent once, with the latest id and the count as it is now.
    """
    entries = _entries_after(user, seq)
    if not entries:
        return [], seq, False
    latest_of_notification = {e.notification_id: e.seq for e in entries if e.kind == StreamKind.NOTIFICATION}
    unread_seq = max((e.seq for e in entries if e.kind == StreamKind.UNREAD_COUNT), default=None)
    notifications = selectors.inbox_notification_rows(user=user).filter(pk__in=latest_of_notification)
    rendered = {n["id"]: n for n in NotificationSerializer(notifications, many=True).data}
    messages = [
        (entry_seq, "notification", rendered[notification_id])
        for notification_id, entry_seq in latest_of_notification.items()
        if notification_id in rendered
    ]
    if unread_seq is not None:
        messages.append((unread_seq, "unread_count", selectors.inbox_unread_counts(user=user)))
    messages.sort(key=lambda message: message[0])
    return [_sse(seq=s, event=e, data=d) for s, e, d in messages], entries[-1].seq, len(entries) == BATCH_SIZE


def _opening(user, last_event_id: int | None) -> tuple[list[str], int]:
    """The inbox is watched from now. A fresh connection starts at the current position with the current unread
    count; so does one whose ``Last-Event-ID`` cannot be replayed after (ahead of the stream, from before the
    replay window, or older than the kept log), which would otherwise wait, silent, for the sequence to reach it."""
    stream_log.stream_watched(user_id=user.pk)
    if last_event_id is not None and selectors.inbox_stream_replayable_after(user=user, seq=last_event_id):
        return [], last_event_id
    position = selectors.inbox_stream_position(user=user)
    return [_sse(seq=position, event="unread_count", data=selectors.inbox_unread_counts(user=user))], position


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
    async with live.wakeups(user.pk) as wakeup:
        messages, position = await sync_to_async(_read_and_disconnect)(_opening, user, last_event_id)
        for message in messages:
            yield message
        last_write = last_watched = time.monotonic()
        while True:
            read = _messages_after
            if time.monotonic() - last_watched >= settings.INBOX_STREAM_KEEPALIVE_SECONDS:
                read, last_watched = _messages_watched, time.monotonic()
            messages, position, more = await sync_to_async(_read_and_disconnect)(read, user, position)
            for message in messages:
                yield message
            if messages:
                last_write = time.monotonic()
            elif time.monotonic() - last_write >= settings.INBOX_STREAM_KEEPALIVE_SECONDS:
                yield ": ok\n\n"
                last_write = time.monotonic()
            if not more:
                await wakeup.wait()


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
