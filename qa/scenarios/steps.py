"""The step language: ``<user>: <action>``, one line per action, e.g. ``ben: share v1 tagging cara, dev``."""

import re
from dataclasses import dataclass, field

from video_platform.notification_types import INBOX_FILTERS, NOTIFICATION_TYPES

NAME = r"[A-Za-z][A-Za-z0-9_]*"
NAMES = rf"{NAME}(?:\s*,\s*{NAME})*"
VIDEO = r"(?:video )?(?P<video>[A-Za-z0-9][A-Za-z0-9_-]*)"
QUOTED = r'"(?P<text>(?:[^"\\]|\\.)*)"'
SETTINGS = ("dm_policy", "tag_policy", "muted_types", "is_pro", "display_name")

# (verb, pattern of what follows the actor, how it reads in the docs and error messages)
FORMS = [
    ("post", rf"post {VIDEO}(?: {QUOTED})?", 'post v1 "caption"'),
    ("share_link", rf"share {VIDEO} by link", "share v1 by link"),
    ("share_tag", rf"share {VIDEO} tagging (?P<people>{NAMES})(?: {QUOTED})?", 'share v1 tagging cara, dev "msg"'),
    ("share_dm", rf"(?:dm|send) {VIDEO} to (?P<people>{NAMES})(?: {QUOTED})?", 'dm v1 to cara, dev "msg"'),
    ("like", rf"like {VIDEO}", "like v1"),
    ("unlike", rf"unlike {VIDEO}", "unlike v1"),
    ("view", rf"view {VIDEO}", "view v1"),
    ("comment", rf"comment on {VIDEO} {QUOTED}", 'comment on v1 "nice @ben"'),
    ("message", rf"message (?P<people>{NAMES}) {QUOTED}", 'message cara "hi"'),
    ("follow", rf"follow (?P<user>{NAME})", "follow cara"),
    ("unfollow", rf"unfollow (?P<user>{NAME})", "unfollow cara"),
    ("block", rf"block (?P<user>{NAME})", "block ana"),
    ("unblock", rf"unblock (?P<user>{NAME})", "unblock ana"),
    ("read_all", r"read all(?: (?P<category>\w+))?", "read all [shares|mentions|…]"),
    ("read", rf"read (?P<type>\w+)(?: {VIDEO})?", "read share [v1]"),
    ("set", r"set (?P<key>\w+) (?P<value>.+)", "set dm_policy followers | set muted_types like, share"),
    ("hide", rf"hide {VIDEO}", "hide v1"),
    ("unhide", rf"unhide {VIDEO}", "unhide v1"),
    ("delete", rf"delete {VIDEO}", "delete v1"),
]
# Done by a moderator through Django admin: the actor is always `staff`, a staff account of the run.
MODERATION = frozenset({"hide", "unhide", "delete"})
MODERATOR = "staff"
COMPILED = [(verb, re.compile(rf"^(?P<actor>{NAME}):\s+{pattern}\s*$"), doc) for verb, pattern, doc in FORMS]


class StepSyntaxError(ValueError):
    pass


@dataclass(frozen=True)
class Step:
    source: str
    line: int
    actor: str
    verb: str
    video: str | None = None
    people: tuple[str, ...] = ()
    user: str | None = None
    text: str = ""
    category: str | None = None
    type: str | None = None
    key: str | None = None
    value: object = None
    refused: bool | str | None = None  # None: must succeed; True or a detail excerpt: must be a 403
    names: tuple[str, ...] = field(default=())  # every user the step refers to, actor included
    parallel: int | None = None  # steps of one `parallel:` group share its number and run at once

    @property
    def makes_video(self) -> bool:
        return self.verb == "post"


def _setting_value(key: str, raw: str):
    if key not in SETTINGS:
        raise StepSyntaxError(f"unknown setting {key!r}; one of: {', '.join(SETTINGS)}")
    raw = raw.strip()
    if key == "is_pro":
        if raw not in ("true", "false"):
            raise StepSyntaxError("is_pro takes true or false")
        return raw == "true"
    if key == "muted_types":
        types = [] if raw == "none" else [t.strip() for t in raw.split(",")]
        unknown = [t for t in types if t not in NOTIFICATION_TYPES]
        if unknown:
            raise StepSyntaxError(f"unknown notification type(s) {', '.join(unknown)} (or `none`)")
        return types
    if key in ("dm_policy", "tag_policy") and raw not in ("everyone", "followers", "nobody"):
        raise StepSyntaxError(f"{key} is everyone, followers or nobody")
    return raw.strip('"')


def parse_step(source: str, *, line: int, refused: bool | str | None = None) -> Step:
    for verb, pattern, _ in COMPILED:
        match = pattern.match(source)
        if match is None:
            continue
        parts = match.groupdict()
        if (verb in MODERATION) != (parts["actor"] == MODERATOR):
            raise StepSyntaxError(
                f"moderation is done by {MODERATOR}: `{MODERATOR}: {verb} v1`"
                if verb in MODERATION
                else f"{MODERATOR!r} is the moderator: it only hides, unhides and deletes videos"
            )
        people = tuple(p.strip() for p in parts["people"].split(",")) if parts.get("people") else ()
        step = Step(
            source=source,
            line=line,
            actor=parts["actor"],
            verb=verb,
            video=parts.get("video"),
            people=people,
            user=parts.get("user"),
            text=re.sub(r"\\(.)", r"\1", parts.get("text") or ""),
            category=parts.get("category"),
            type=parts.get("type"),
            key=parts.get("key"),
            value=_setting_value(parts["key"], parts["value"]) if verb == "set" else None,
            refused=refused,
            names=()
            if verb in MODERATION
            else (parts["actor"], *people, *([parts["user"]] if parts.get("user") else [])),
        )
        if step.category is not None and step.category not in INBOX_FILTERS:
            raise StepSyntaxError(f"unknown category {step.category!r}; one of: {', '.join(INBOX_FILTERS)}")
        if step.type is not None and step.type not in NOTIFICATION_TYPES:
            raise StepSyntaxError(f"unknown notification type {step.type!r}")
        return step
    raise StepSyntaxError(f"cannot read step {source!r}; {_hint(source)}")


def _hint(source: str) -> str:
    actor, colon, rest = source.partition(":")
    if not colon or not re.fullmatch(NAME, actor.strip()):
        return 'a step starts with a user name and a colon, e.g. "ana: like v1"'
    word = rest.split()[0] if rest.split() else ""
    forms = [doc for verb, _, doc in FORMS if doc.split()[0] == word]
    if forms:
        return "expected: " + "  |  ".join(f"{actor}: {doc}" for doc in forms)
    return f"unknown action {word!r}; actions: " + ", ".join(sorted({doc.split()[0] for _, _, doc in FORMS}))
