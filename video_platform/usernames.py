"""Usernames as on TikTok: ASCII letters, digits, ``_`` and ``.``, stored normalised (NFKC, lower case).

Normalising first turns a look-alike (fullwidth ``ａｎａ``, the Kelvin sign in ``\u212aelvin``) into the name it
imitates, which the database then finds taken; letters outside ASCII (Cyrillic ``а``) are refused outright.
"""

import re
import unicodedata

USERNAME_MAX_LENGTH = 150
# Not ending in a period: a mention ``@ana.`` at the end of a sentence is read as @ana.
USERNAME_PATTERN = r"^[a-z0-9_.]*[a-z0-9_]$"
USERNAME_RULE = "Use only letters (a-z), digits, _ and . (not at the end)."


def username_normalise(raw: str) -> str:
    """The form a username is stored, looked up and compared in."""
    return unicodedata.normalize("NFKC", raw).lower()


def username_lookup(raw: str) -> str | None:
    """The form to look ``raw`` up by, or None when it can name nobody: PostgreSQL text can't hold NUL, so such a
    name is answered "no such user" without a query that would fail."""
    if "\x00" in raw:
        return None
    return username_normalise(raw)


def username_problem(normalised: str) -> str | None:
    """Why ``normalised`` can't be a new username, or None when it can."""
    if not normalised:
        return "This field may not be blank."
    if len(normalised) > USERNAME_MAX_LENGTH:
        return f"Ensure this field has no more than {USERNAME_MAX_LENGTH} characters."
    if not re.fullmatch(USERNAME_PATTERN, normalised):
        return USERNAME_RULE
    return None
