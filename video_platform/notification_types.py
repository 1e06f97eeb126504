"""The vocabulary of notifications, defined once: their types and the inbox categories they fall in.

It lives in the social core because a user's settings name types (``Profile.muted_types``); which action
notifies whom with which type is the inbox's rule (``inbox/policy.py``).
"""

from enum import StrEnum


class NotificationType(StrEnum):
    SHARE = "share"
    TAG = "tag"
    MESSAGE = "message"
    FOLLOW = "follow"
    LIKE = "like"
    COMMENT = "comment"
    MENTION = "mention"
    POST = "post"


NOTIFICATION_TYPES = tuple(t.value for t in NotificationType)

CATEGORY_OF_TYPE = {
    NotificationType.SHARE: "shares",
    NotificationType.TAG: "mentions",
    NotificationType.MENTION: "mentions",
    NotificationType.MESSAGE: "messages",
    NotificationType.FOLLOW: "followers",
    NotificationType.LIKE: "likes",
    NotificationType.COMMENT: "comments",
    NotificationType.POST: "posts",
}
# The inbox's tabs, in the order they are shown; "all" is every category.
CATEGORIES = tuple(dict.fromkeys(CATEGORY_OF_TYPE.values()))
INBOX_FILTERS = ("all", *CATEGORIES)
