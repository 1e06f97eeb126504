"""The scenario file format as a JSON Schema, and its errors pointed at a line and key of the YAML."""

from dataclasses import dataclass

import jsonschema
import yaml

from video_platform.models import CAPTION_MAX_LENGTH, ContactPolicy
from video_platform.notification_types import CATEGORIES, NOTIFICATION_TYPES

NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,29}$"
LABEL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,29}$"
NAME = {"type": "string", "pattern": NAME_PATTERN}
COUNT = {"type": "integer", "minimum": 0}
NAME_LISTS = {
    "type": "object",
    "propertyNames": {"pattern": NAME_PATTERN},
    "additionalProperties": {"type": "array", "items": NAME},
}

USER = {
    "type": ["object", "null"],
    "additionalProperties": False,
    "properties": {
        "display_name": {"type": "string", "maxLength": 50},
        "dm_policy": {"enum": list(ContactPolicy.values)},
        "tag_policy": {"enum": list(ContactPolicy.values)},
        "muted_types": {"type": "array", "items": {"enum": list(NOTIFICATION_TYPES)}},
        "is_pro": {"type": "boolean"},
    },
}
NOTIFICATION = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {
        "type": {"enum": list(NOTIFICATION_TYPES)},
        "category": {"enum": list(CATEGORIES)},
        "actor": {"oneOf": [NAME, {"type": "null"}]},
        "video": {"oneOf": [{"type": "string", "pattern": LABEL_PATTERN}, {"type": "null"}]},
        "count": COUNT,
        "unread": {"type": "boolean"},
        "text": {"type": "string"},
    },
}
STEP = {
    # A step is a string, or {do: string, refused: true | "text the 403 detail must contain"}.
    "type": ["string", "object"],
    "required": ["do"],
    "additionalProperties": False,
    "properties": {"do": {"type": "string"}, "refused": {"type": ["boolean", "string"]}},
}
PARALLEL = {
    # {parallel: [step, step, …]}: the steps run at the same time, each as its own client.
    "type": "object",
    "required": ["parallel"],
    "additionalProperties": False,
    "properties": {"parallel": {"type": "array", "minItems": 2, "items": STEP}},
}
# An unread count as expected: any of total, the categories and capped (true past 999); keys left out are not
# compared, so a scenario that never nears 999 need not say capped: false.
UNREAD_COUNTS = {"total": COUNT} | dict.fromkeys(CATEGORIES, COUNT) | {"capped": {"type": "boolean"}}
STREAM_MESSAGE = {
    "type": "object",
    "required": ["event"],
    "additionalProperties": False,
    "properties": {"event": {"enum": ["notification", "unread_count"]}} | NOTIFICATION["properties"] | UNREAD_COUNTS,
}
SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Shareloop scenario",
    "type": "object",
    "required": ["users", "steps", "expect"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string"},
        "description": {"type": "string"},
        "users": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"pattern": NAME_PATTERN},
            "additionalProperties": USER,
        },
        "follows": NAME_LISTS,
        "blocks": NAME_LISTS,
        "videos": {
            "type": "object",
            "propertyNames": {"pattern": LABEL_PATTERN},
            "additionalProperties": {
                "type": "object",
                "required": ["creator"],
                "additionalProperties": False,
                "properties": {"creator": NAME, "caption": {"type": "string", "maxLength": CAPTION_MAX_LENGTH}},
            },
        },
        "steps": {
            "type": "array",
            "items": {"if": {"type": "object", "required": ["parallel"]}, "then": PARALLEL, "else": STEP},
        },
        "expect": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": False,
            "properties": {
                "inboxes": {
                    "type": "object",
                    "propertyNames": {"pattern": NAME_PATTERN},
                    "additionalProperties": {"type": "array", "items": NOTIFICATION},
                },
                "stream": {
                    "type": "object",
                    "propertyNames": {"pattern": NAME_PATTERN},
                    "additionalProperties": {"type": "array", "items": STREAM_MESSAGE},
                },
                "unread": {
                    "type": "object",
                    "propertyNames": {"pattern": NAME_PATTERN},
                    "additionalProperties": {
                        "type": "object",
                        "minProperties": 1,
                        "additionalProperties": False,
                        "properties": UNREAD_COUNTS,
                    },
                },
                "videos": {
                    "type": "object",
                    "propertyNames": {"pattern": LABEL_PATTERN},
                    "additionalProperties": {
                        "type": "object",
                        "minProperties": 1,
                        "additionalProperties": False,
                        "properties": {"views": COUNT, "likes": COUNT, "comments": COUNT, "shares": COUNT},
                    },
                },
            },
        },
    },
}


@dataclass(frozen=True)
class FormatError:
    line: int
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.line}: {self.key}: {self.message}" if self.key else f"{self.line}: {self.message}"


class ScenarioFormatError(Exception):
    def __init__(self, path: str, errors: list[FormatError]):
        self.path, self.errors = path, sorted(errors, key=lambda e: e.line)
        super().__init__("\n".join(f"{path}:{e}" for e in errors))


def key_path(path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def node_at(root: yaml.Node, path) -> yaml.Node:
    """The YAML node at ``path``, or its deepest existing ancestor."""
    node = root
    for part in path:
        if isinstance(node, yaml.MappingNode):
            child = next((value for key, value in node.value if key.value == str(part)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
        else:
            child = None
        if child is None:
            break
        node = child
    return node


def line_of(root: yaml.Node, path, *, key: str | None = None) -> int:
    """The line of the value at ``path``; with ``key``, of that key in the mapping at ``path``."""
    node = node_at(root, path)
    if key is not None and isinstance(node, yaml.MappingNode):
        node = next((k for k, _ in node.value if k.value == str(key)), node)
    return node.start_mark.line + 1


def _duplicate_keys(node: yaml.Node, path=()) -> list[FormatError]:
    errors = []
    if isinstance(node, yaml.MappingNode):
        seen = set()
        for key, value in node.value:
            if key.value in seen:
                errors.append(FormatError(key.start_mark.line + 1, key_path([*path, key.value]), "duplicate key"))
            seen.add(key.value)
            errors += _duplicate_keys(value, (*path, key.value))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            errors += _duplicate_keys(item, (*path, i))
    return errors


def _schema_errors(document, root: yaml.Node) -> list[FormatError]:
    errors = []
    validator = jsonschema.Draft202012Validator(SCHEMA)
    for error in validator.iter_errors(document):
        path = list(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = error.schema.get("properties", {})
            errors.extend(
                FormatError(
                    line_of(root, path, key=extra),
                    key_path([*path, extra]),
                    f"unknown key {extra!r}; expected one of: {', '.join(allowed)}",
                )
                for extra in error.instance
                if extra not in allowed
            )
            continue
        if "propertyNames" in error.absolute_schema_path:
            name = error.instance
            errors.append(
                FormatError(
                    line_of(root, path, key=name),
                    key_path([*path, name]),
                    f"{name!r} is not a valid name (letters, digits, _; starting with a letter)",
                )
            )
            continue
        errors.append(FormatError(line_of(root, path), key_path(path), error.message))
    return errors


def parse(text: str, path: str) -> tuple[dict, yaml.Node, list[FormatError]]:
    """The document, its node tree and what is wrong with its shape; unreadable YAML raises."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark, context = getattr(exc, "problem_mark", None), getattr(exc, "context_mark", None)
        message = f"not valid YAML: {getattr(exc, 'problem', None) or exc}"
        if context is not None and getattr(exc, "context", None):
            message += f" ({exc.context} at line {context.line + 1})"
        raise ScenarioFormatError(path, [FormatError(mark.line + 1 if mark else 1, "", message)]) from exc
    if root is None:
        raise ScenarioFormatError(path, [FormatError(1, "", "the file is empty")])
    return document, root, _duplicate_keys(root) + _schema_errors(document, root)
