from django import template

from inbox import selectors

register = template.Library()


@register.inclusion_tag("inbox/_badge.html", takes_context=True)
def inbox_badge(context):
    user = context["request"].user
    return {"unread": selectors.inbox_unread_counts(user=user) if user.is_authenticated else None}


@register.simple_tag(takes_context=True)
def unread_conversation_ids(context) -> set[int]:
    """Chats with an unread message notification for the viewer: the Messages list marks them."""
    return selectors.unread_conversation_ids(user=context["request"].user)
