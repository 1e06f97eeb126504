"""The social core: every action a user takes. Each writes its rows and its outbox event in one
transaction; the inbox fan-out starts only once that transaction commits."""

import re
from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string

from .actions import ActionKind, RecordedAction
from .contact_rules import ContactKind, contact_check
from .models import (
    SHARE_MAX_PEOPLE,
    Block,
    Comment,
    Conversation,
    Follow,
    FollowedPair,
    Like,
    LikedPair,
    Message,
    Profile,
    ProfileView,
    Share,
    ShareChannel,
    Video,
    VideoView,
)
from .notification_types import NOTIFICATION_TYPES
from .outbox import event_record
from .usernames import username_normalise, username_problem

User = get_user_model()
MENTION_PATTERN = re.compile(r"(?<![\w@])@([\w.@+-]{1,150})")
# Also the API's answer to a longer list, which it refuses before looking anyone up.
SHARE_TOO_MANY_PEOPLE = f"A share can name at most {SHARE_MAX_PEOPLE} people."


class SelfActionRefused(ValidationError):
    """Following, blocking, tagging or DMing a video to yourself: answered 400 with the reason as ``detail``."""


def _refuse_self_action(*, actor, targets: Iterable, verb: str) -> None:
    """One rule for every action aimed at people: none of them may be the actor."""
    if any(target.pk == actor.pk for target in targets):
        raise SelfActionRefused(f"You can't {verb} yourself.")


def mentioned_users(text: str, *, actor) -> list:
    """Existing users @mentioned in ``text``, the actor left out; unknown names are just text."""
    names = {username_normalise(match.rstrip(".")) for match in MENTION_PATTERN.findall(text)}
    return list(User.objects.filter(username__in=names).exclude(pk=actor.pk).order_by("pk"))


@transaction.atomic
def user_create(*, username: str, password: str, display_name: str = "", email: str = ""):
    """Sign a user up under the normalised ``username``; a taken or invalid name or a weak password is a field error."""
    username = username_normalise(username)
    errors = {}
    if problem := username_problem(username):
        errors["username"] = [problem]
    elif User.objects.filter(username=username).exists():  # names are stored normalised: one exact lookup
        errors["username"] = ["That username is taken."]
    user = User(username=username, email=email)
    try:
        validate_password(password, user)
    except ValidationError as error:
        errors["password"] = error.messages
    if errors:
        raise ValidationError(errors)
    user.set_password(password)
    try:
        # The unique index on lower(username) decides, so two sign-ups racing for one name can't both win.
        with transaction.atomic():
            user.save()
    except IntegrityError as error:
        raise ValidationError({"username": "That username is taken."}) from error
    display_name = display_name or username[: Profile._meta.get_field("display_name").max_length]
    Profile.objects.update_or_create(user=user, defaults={"display_name": display_name})
    return user


@transaction.atomic
def profile_update(*, user, **fields) -> Profile:
    muted = fields.get("muted_types")
    if muted is not None:
        unknown = sorted(set(muted) - set(NOTIFICATION_TYPES))
        if unknown:
            raise ValidationError({"muted_types": f"Unknown notification types: {', '.join(unknown)}."})
        fields["muted_types"] = sorted(set(muted))
    profile = user.profile
    for name, value in fields.items():
        setattr(profile, name, value)
    profile.full_clean()
    profile.save(update_fields=list(fields))
    return profile


@transaction.atomic
def follow_create(*, follower, followee) -> Follow:
    """Follow; ``follow.created`` says whether the follow is new. Only a pair's first follow ever notifies."""
    _refuse_self_action(actor=follower, targets=[followee], verb="follow")
    follow, follow.created = Follow.objects.get_or_create(follower=follower, followee=followee)
    follow.event = None
    if follow.created and FollowedPair.objects.get_or_create(follower=follower, followee=followee)[1]:
        follow.event = event_record(
            action=RecordedAction(
                kind=ActionKind.FOLLOW, actor_id=follower.pk, followee_id=followee.pk, follow_id=follow.pk
            )
        )
    return follow


def follow_delete(*, follower, followee) -> None:
    Follow.objects.filter(follower=follower, followee=followee).delete()


def block_create(*, blocker, blocked) -> Block:
    """Block; ``block.created`` says whether the block is new."""
    _refuse_self_action(actor=blocker, targets=[blocked], verb="block")
    block, block.created = Block.objects.get_or_create(blocker=blocker, blocked=blocked)
    return block


def block_delete(*, blocker, blocked) -> None:
    Block.objects.filter(blocker=blocker, blocked=blocked).delete()


@transaction.atomic
def video_create(*, creator, caption: str, clip=None) -> Video:
    mentioned = mentioned_users(caption, actor=creator)
    contact_check(actor=creator, targets=mentioned, kind=ContactKind.TAG)
    video = Video.objects.create(creator=creator, caption=caption, clip=clip or "")
    video.event = event_record(
        action=RecordedAction(
            kind=ActionKind.POST,
            actor_id=creator.pk,
            video_id=video.pk,
            creator_id=creator.pk,
            mentioned=frozenset(u.pk for u in mentioned),
            text=caption,
        )
    )
    return video


@transaction.atomic
def video_view_record(*, video: Video, viewer) -> VideoView | None:
    """Count a view; every view counts, repeated ones included, except the creator's own."""
    if viewer is not None and viewer.pk == video.creator_id:
        return None
    view = VideoView.objects.create(video=video, viewer=viewer)
    Video.objects.filter(pk=video.pk).update(view_count=F("view_count") + 1)
    return view


def profile_view_record(*, profile_user, viewer) -> ProfileView | None:
    if viewer is not None and viewer.pk == profile_user.pk:
        return None
    return ProfileView.objects.create(profile_user=profile_user, viewer=viewer)


@transaction.atomic
def like_create(*, user, video: Video) -> Like:
    """Like; ``like.created`` says whether the like is new. Only a user's first like of a video ever notifies:
    the group counts likers ("@ana and 3 others"), and liking again after an unlike is not news."""
    like, like.created = Like.objects.get_or_create(user=user, video=video)
    like.event = None
    if like.created:
        Video.objects.filter(pk=video.pk).update(like_count=F("like_count") + 1)
        if LikedPair.objects.get_or_create(user=user, video=video)[1]:
            like.event = event_record(
                action=RecordedAction(
                    kind=ActionKind.LIKE,
                    actor_id=user.pk,
                    video_id=video.pk,
                    creator_id=video.creator_id,
                    like_id=like.pk,
                )
            )
    return like


@transaction.atomic
def like_delete(*, user, video: Video) -> None:
    deleted, _ = Like.objects.filter(user=user, video=video).delete()
    if deleted:
        Video.objects.filter(pk=video.pk).update(like_count=F("like_count") - 1)


@transaction.atomic
def comment_create(*, author, video: Video, text: str) -> Comment:
    mentioned = mentioned_users(text, actor=author)
    contact_check(actor=author, targets=mentioned, kind=ContactKind.TAG)
    comment = Comment.objects.create(author=author, video=video, text=text)
    Video.objects.filter(pk=video.pk).update(comment_count=F("comment_count") + 1)
    comment.event = event_record(
        action=RecordedAction(
            kind=ActionKind.COMMENT,
            actor_id=author.pk,
            video_id=video.pk,
            creator_id=video.creator_id,
            mentioned=frozenset(u.pk for u in mentioned),
            comment_id=comment.pk,
            text=text,
        )
    )
    return comment


def _conversation_key(users: Iterable) -> str:
    return ",".join(str(pk) for pk in sorted({u.pk for u in users}))


def conversation_get_or_create(*, creator, participants: Iterable) -> tuple[Conversation, bool]:
    """The one conversation between exactly these people, created if needed (DM policies permitting)."""
    others = [u for u in participants if u.pk != creator.pk]
    if not others:
        raise ValidationError({"participants": "Name at least one other user."})
    contact_check(actor=creator, targets=others, kind=ContactKind.DM)
    with transaction.atomic():
        conversation, created = Conversation.objects.get_or_create(key=_conversation_key([creator, *others]))
        if created:
            conversation.participants.add(creator, *others)
    return conversation, created


@transaction.atomic
def message_send(*, sender, conversation: Conversation, text: str, video: Video | None = None) -> Message:
    """Send a message; one carrying a video is a DM share to the other participants (see video_share)."""
    if video is not None:
        share = video_share(
            sharer=sender, video=video, channel=ShareChannel.DM, message=text, conversation=conversation
        )
        message = share.messages.get()
        message.event = share.event
        return message
    if not text.strip():
        raise ValidationError({"text": "Write something or attach a video."})
    others = list(conversation.participants.exclude(pk=sender.pk))
    contact_check(actor=sender, targets=others, kind=ContactKind.DM)
    message = Message.objects.create(conversation=conversation, sender=sender, text=text)
    Conversation.objects.filter(pk=conversation.pk).update(updated_at=message.created_at)
    message.event = event_record(
        action=RecordedAction(
            kind=ActionKind.MESSAGE,
            actor_id=sender.pk,
            recipients=frozenset(u.pk for u in others),
            conversations={u.pk: conversation.pk for u in others},
            message_id=message.pk,
            text=text,
        )
    )
    return message


def _message_post(*, conversation: Conversation, sender, text: str, video: Video, share: Share) -> Message:
    message = Message.objects.create(conversation=conversation, sender=sender, text=text, video=video, share=share)
    # The message's time, never earlier than the conversation's creation (a share's time can be).
    Conversation.objects.filter(pk=conversation.pk).update(updated_at=message.created_at)
    return message


@transaction.atomic
def video_share(
    *,
    sharer,
    video: Video,
    channel: str,
    tagged: Iterable = (),
    recipients: Iterable = (),
    message: str = "",
    conversation: Conversation | None = None,
) -> Share:
    """Share a video by link, by a repost tagging people, or by DM. Every share adds 1 to the count.

    A DM share goes to each recipient's 1:1 chat, or, with ``conversation``, into that chat, to its other
    participants (a message carrying a video, whichever endpoint sent it).
    """
    tagged, recipients = list(tagged), list(recipients)
    if conversation is not None:
        channel = ShareChannel.DM
        recipients = list(conversation.participants.exclude(pk=sharer.pk))
    if channel not in ShareChannel.values:
        raise ValidationError({"channel": f'"{channel}" is not a valid choice.'})
    if channel == ShareChannel.TAG and not tagged:
        raise ValidationError({"tagged": "A tag share needs at least one tagged user."})
    if channel == ShareChannel.DM and not recipients:
        raise ValidationError({"recipients": "A DM share needs at least one recipient."})
    for field, people in (("tagged", tagged), ("recipients", recipients)):
        if len({person.pk for person in people}) > SHARE_MAX_PEOPLE:
            raise ValidationError({field: SHARE_TOO_MANY_PEOPLE})
    if channel != ShareChannel.TAG:
        tagged = []
    if channel != ShareChannel.DM:
        recipients = []
    _refuse_self_action(actor=sharer, targets=tagged, verb="tag")
    _refuse_self_action(actor=sharer, targets=recipients, verb="send a video to")
    contact_check(actor=sharer, targets=tagged, kind=ContactKind.TAG)
    contact_check(actor=sharer, targets=recipients, kind=ContactKind.DM)

    # Under share batching the fan-out releases the share into the public count: at once when it names the
    # creator, at its window's release when it does not (SHARE_NOTIFICATION_BATCH_SECONDS, docs/privacy.md).
    counted_now = not import_string(settings.SHARE_BATCH_SECONDS_READER)()
    released_at = timezone.now() if counted_now else None
    share = Share.objects.create(video=video, sharer=sharer, channel=channel, message=message, released_at=released_at)
    if tagged:
        share.tagged.set(tagged)
    conversations = {}
    if conversation is not None:
        _message_post(conversation=conversation, sender=sharer, text=message, video=video, share=share)
        conversations = {recipient.pk: conversation.pk for recipient in recipients}
    else:
        for recipient in recipients:
            chat, _ = Conversation.objects.get_or_create(key=_conversation_key([sharer, recipient]))
            chat.participants.add(sharer, recipient)
            _message_post(conversation=chat, sender=sharer, text=message, video=video, share=share)
            conversations[recipient.pk] = chat.pk
    if recipients:
        share.recipients.set(recipients)
    if counted_now:
        video.share_count = _video_share_count_increment(video)
    else:
        video.share_count = Video.objects.filter(pk=video.pk).values_list("share_count", flat=True).get()
    share.event = event_record(
        action=RecordedAction(
            kind=ActionKind.SHARE,
            actor_id=sharer.pk,
            video_id=video.pk,
            creator_id=video.creator_id,
            channel=channel,
            tagged=frozenset(u.pk for u in tagged),
            recipients=frozenset(u.pk for u in recipients),
            conversations=conversations,
            share_id=share.pk,
            share_counted=counted_now,
            text=message,
        )
    )
    return share


def _video_share_count_increment(video: Video) -> int:
    """Add one to the video's share count and answer the new count: one statement, not an update and a read."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Video._meta.db_table} SET share_count = share_count + 1 WHERE id = %s RETURNING share_count",
            [video.pk],
        )
        return cursor.fetchone()[0]


@transaction.atomic(savepoint=False)  # a part of its caller's transaction: no savepoint round trips
def shares_release(*, shares: QuerySet, now: datetime) -> int:
    """Add held-back shares to their videos' public counts, stamped ``now``; each is counted exactly once.

    The inbox calls this in the transaction that releases the batch window's notifications, so the count,
    the analytics and the inbox move together. Returns how many shares joined the counts.
    """
    # Locked rows a concurrent release holds are its to count; skipping them never counts one twice.
    pending = shares.filter(released_at__isnull=True).select_for_update(skip_locked=True, of=("self",))
    released = list(pending.order_by("pk").values_list("pk", "video_id"))
    Share.objects.filter(pk__in=[pk for pk, _ in released]).update(released_at=now)
    per_video = Counter(video_id for _, video_id in released)
    for video_id in sorted(per_video):  # one lock order for every releaser
        Video.objects.filter(pk=video_id).update(share_count=F("share_count") + per_video[video_id])
    return len(released)


@transaction.atomic
def video_counts_rebuild(*, video: Video) -> dict[str, tuple[int, int]]:
    """Recount a video's counters from its rows (an operator's repair); returns {counter: (was, now)} that changed.

    The row lock makes concurrent F() increments wait, so none is lost or counted twice.
    """
    video = Video.objects.select_for_update().get(pk=video.pk)
    recounted = {
        "view_count": VideoView.objects.filter(video=video).count(),
        "like_count": Like.objects.filter(video=video).count(),
        "comment_count": Comment.objects.filter(video=video).count(),
        "share_count": Share.objects.filter(video=video, released_at__isnull=False).count(),
    }
    stored = {name: getattr(video, name) for name in recounted}
    changed = {name: (stored[name], count) for name, count in recounted.items() if stored[name] != count}
    if changed:
        Video.objects.filter(pk=video.pk).update(**{name: now for name, (_, now) in changed.items()})
    return changed
