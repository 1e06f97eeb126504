from django import template

register = template.Library()


@register.filter
def thousands(value: int) -> str:
    """240471 → "240,471": figures read at a glance."""
    return f"{value:,}"
