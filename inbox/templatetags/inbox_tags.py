from django import template

from inbox import selectors

register = template.Library()


@register.inclusion_tag("inbox/_badge.html", takes_context=True)
def inbox_badge(context):
    user = context["request"].user
    return {"unread_total": selectors.inbox_unread_counts(user=user)["total"] if user.is_authenticated else 0}
