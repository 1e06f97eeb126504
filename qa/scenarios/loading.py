"""Reading a scenario file: its shape (the schema), its steps, and every name and video it refers to.

All problems of a file are reported together, each with its line; the reference checks skip whatever
part of the file already failed the schema, so one mistake is not reported twice.
"""

from dataclasses import dataclass, field, replace
from pathlib import Path

from .schema import FormatError, ScenarioFormatError, key_path, line_of, parse
from .steps import Step, StepSyntaxError, parse_step


@dataclass
class Scenario:
    path: str
    name: str
    users: dict[str, dict]
    follows: dict[str, list[str]]
    blocks: dict[str, list[str]]
    videos: dict[str, dict]
    steps: list[Step]
    expect: dict
    lines: dict[str, int] = field(default_factory=dict)  # "inboxes.cara" → line, for the report


def _mapping(value) -> dict:
    return value if isinstance(value, dict) else {}


def _items(value) -> list:
    return value if isinstance(value, list) else []


class _References:
    """Checks that every user and video a file mentions is declared, collecting errors with lines."""

    def __init__(self, document: dict, root):
        self.root, self.errors = root, []
        self.users = {name: _mapping(settings) for name, settings in _mapping(document.get("users")).items()}

    def error(self, where: list, message: str, *, key=None) -> None:
        line = line_of(self.root, where, key=key)
        self.errors.append(FormatError(line, key_path(where if key is None else [*where, key]), message))

    def user(self, name, where: list, *, key=None) -> None:
        if self.users and isinstance(name, str) and name not in self.users:
            self.error(where, f"unknown user {name!r}: declare it under `users:` ({', '.join(self.users)})", key=key)


def _step_items(items: list):
    """(index, YAML path, step item, parallel group or None) for every step, those inside `parallel:` too."""
    for i, item in enumerate(items):
        if isinstance(item, dict) and "parallel" in item:
            for j, inner in enumerate(_items(item["parallel"])):
                yield i, ["steps", i, "parallel", j] + ([] if isinstance(inner, str) else ["do"]), inner, i
        else:
            yield i, ["steps", i] if isinstance(item, str) else ["steps", i, "do"], item, None


def scenario_load(path: str | Path) -> Scenario:
    path = str(path)
    document, root, errors = parse(Path(path).read_text(encoding="utf-8"), path)
    document = _mapping(document)
    refs = _References(document, root)

    first_spelling: dict[str, str] = {}
    for name in refs.users:
        other = first_spelling.setdefault(str(name).lower(), name)
        if other != name:
            refs.error(["users"], f"same name as {other!r} apart from case: usernames ignore case", key=name)

    for section in ("follows", "blocks"):
        for name, others in _mapping(document.get(section)).items():
            refs.user(name, [section], key=name)
            for i, other in enumerate(_items(others)):
                refs.user(other, [section, name, i])
    videos = _mapping(document.get("videos"))
    for label, video in videos.items():
        refs.user(_mapping(video).get("creator"), ["videos", label, "creator"])

    known_videos, steps = set(videos), []
    for _, where, item, group in _step_items(_items(document.get("steps"))):
        step_item = {"do": item} if isinstance(item, str) else _mapping(item)
        source, refused = step_item.get("do"), step_item.get("refused")
        if not isinstance(source, str):
            continue
        try:
            step = replace(parse_step(source.strip(), line=line_of(root, where), refused=refused), parallel=group)
        except StepSyntaxError as exc:
            refs.error(where, str(exc))
            continue
        if group is not None and step.makes_video:
            refs.error(where, "a post cannot run in parallel: its label is needed by the steps after it")
        for name in step.names:
            refs.user(name, where)
        if step.makes_video:
            if step.video in known_videos:
                refs.error(where, f"video {step.video!r} already exists: give the new one another label")
            known_videos.add(step.video)
        elif step.video is not None and step.video not in known_videos:
            refs.error(where, f"unknown video {step.video!r}: declare it under `videos:` or post it in an earlier step")
        steps.append(step)

    expect, lines = _mapping(document.get("expect")), {}
    for section in ("inboxes", "unread", "stream"):
        for name, expected in _mapping(expect.get(section)).items():
            refs.user(name, ["expect", section], key=name)
            lines[f"{section}.{name}"] = line_of(root, ["expect", section], key=name)
            for j, item in enumerate(_items(expected) if section != "unread" else ()):
                where = ["expect", section, name, j]
                refs.user(_mapping(item).get("actor"), [*where, "actor"])
                video = _mapping(item).get("video")
                if isinstance(video, str) and video not in known_videos:
                    refs.error([*where, "video"], f"unknown video {video!r}")
    for label in _mapping(expect.get("videos")):
        lines[f"videos.{label}"] = line_of(root, ["expect", "videos"], key=label)
        if label not in known_videos:
            refs.error(["expect", "videos"], f"unknown video {label!r}", key=label)

    errors += refs.errors
    if errors:
        raise ScenarioFormatError(path, errors)
    return Scenario(
        path=path,
        name=document.get("name") or Path(path).stem,
        users=refs.users,
        follows=document.get("follows") or {},
        blocks=document.get("blocks") or {},
        videos=videos,
        steps=steps,
        expect=expect,
        lines=lines,
    )
