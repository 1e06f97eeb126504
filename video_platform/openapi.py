"""The OpenAPI document's shared parts: the guide at its top, error shapes, and the SSE stream.

drf-spectacular describes the DRF views; this module adds what it cannot see: the error answers every
operation may give (one postprocessing hook instead of repeating them on every view) and the stream,
which is a plain Django view because DRF's content negotiation answers 406 to ``text/event-stream``.
"""

from django.conf import settings

from .notification_types import CATEGORIES

DESCRIPTION = """
A simulated short-video platform whose inbox never names a sharer: a creator learns **that** a video
was shared and how often, never by whom, unless the sharer tagged them or sent it to them by DM.

**Authentication.** `POST /api/auth/token/` with `{"username", "password"}` answers `{"token"}`; send it
as `Authorization: Token <token>`. Session cookies (the browser demo) work too. Without credentials every
operation except sign-up and token answers **401** with `WWW-Authenticate: Token`.

**Errors.** `400`: DRF field errors, an object mapping each field (or `non_field_errors`) to a list of
messages. `401`, `403`, `404`: `{"detail": "..."}`. `403` means a block or a DM/tag policy refused the
action (or a non-Pro account asked for analytics). Anything the caller may not see (another user's
notification, conversation or event) is `404`, never a `403` that would confirm it exists. Every other
answer under `/api/` is JSON with a `detail` too: `405` (the `Allow` header lists the methods), `413` (a
body over the size limit), `415` (a body that is not JSON), `429` (throttled; see `Retry-After`), `400`
for a Host header the server does not serve, and `500`. A path written without its trailing slash answers
`308` with `Location` set to the right URL: the redirect keeps the method and the body.

**Pagination.** Lists are cursor-paginated: `{"next", "previous", "results"}`. `next` is a full URL
holding an opaque `cursor` query parameter; follow it until it is `null`. `limit` sets the page size
(default 20, at most 100). Any `cursor` not taken from `next` or `previous` is a `400`. A cursor marks a
place in the list's order (newest first), so following `next` never repeats an item nor skips one that
stayed where it was; an item that arrives or moves to the top meanwhile (the inbox orders by last
activity: a new like bumps its group) lands above the first page and a walk that has started does not
return it. The inbox answers a `stream_position` with every page: keep the first page's, and
`GET /api/inbox/?since=<stream_position>` returns every notification created or bumped after it, newest
first (the stream's `id:` values work too).

**Waiting for delivery.** Every write that causes notifications answers an `event_id`. Delivery to the
inboxes is asynchronous (a Celery worker); poll `GET /api/events/{id}/` until `status` is `done` (or
`failed`) instead of sleeping. `notifications` then says how many inbox rows the event created or bumped.

**Live updates.** `GET /api/inbox/stream/` is a Server-Sent Events stream (see its operation).
""".strip()


ERROR_COMPONENTS = {
    "ErrorDetail": {
        "type": "object",
        "properties": {"detail": {"type": "string", "description": "Why the request was refused."}},
        "required": ["detail"],
    },
    "FieldErrors": {
        "type": "object",
        "description": "Each invalid field (or `non_field_errors`) mapped to its messages. A body that is not "
        "JSON gets an `ErrorDetail` instead.",
        "minProperties": 1,
        "additionalProperties": {
            "oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "object"}],
        },
        "example": {"tagged": ["Object with username=nobody does not exist."]},
    },
}

STREAM_DESCRIPTION = f"""
A Server-Sent Events stream of the caller's inbox (`Accept: text/event-stream`; a plain Django view, so
token or session authentication as everywhere else).

On connect, and then as a keep-alive, the server sends a comment line `: ok`. Each message has an `id:`
from a per-user increasing sequence and one of two event names:

- `event: notification` — `data` is the notification JSON (the same object as `GET /api/inbox/{{id}}/`),
  sent each time a notification is created or its group count changes. A `share` notification's
  `actor` is always `null`.
- `event: unread_count` — `data` is `{{"total": n, "by_category": {{...}}, "capped": false}}` with the
  categories {", ".join(f"`{c}`" for c in CATEGORIES)}, as `GET /api/inbox/unread-count/` answers: exact up to
  999; past that `total` is 999 and `capped` is true.

Reconnect with the `Last-Event-ID` header set to the last `id:` you saw to replay what was missed. An id
the stream cannot replay after (one it has not reached, or one from before the replay window: the log is
kept while the inbox is watched, by an open stream or a page read, and for 10 minutes by default after)
counts as a fresh connection: the current `unread_count`, then live messages; reload the inbox then.

```
: ok

id: 41
event: notification
data: {{"id": 7, "type": "share", "actor": null, "count": 3, "text": "Your video was shared 3 times", ...}}

id: 42
event: unread_count
data: {{"total": 1, "by_category": {{"shares": 1, "mentions": 0, ...}}, "capped": false}}
```
""".strip()

STREAM_PATH = {
    "/api/inbox/stream/": {
        "get": {
            "operationId": "inbox_stream",
            "summary": "Live inbox updates (Server-Sent Events)",
            "description": STREAM_DESCRIPTION,
            "tags": ["inbox"],
            "parameters": [
                {
                    "name": "Last-Event-ID",
                    "in": "header",
                    "required": False,
                    "description": "The last `id:` received; the stream replays what came after it.",
                    "schema": {"type": "string"},
                },
            ],
            "security": [{"tokenAuth": []}, {"cookieAuth": []}],
            "responses": {
                "200": {
                    "description": "An endless `text/event-stream` of `notification` and `unread_count` events.",
                    "content": {"text/event-stream": {"schema": {"type": "string"}}},
                },
                "401": {
                    "description": "No or invalid credentials.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorDetail"}}},
                },
            },
        }
    }
}


def _error(description: str, component: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}},
    }


def _require_body_with_required_fields(operation: dict, schemas: dict) -> None:
    """A POST whose body has required fields (or is one of several shapes) can't be sent without one."""
    body = operation.get("requestBody")
    if not body:
        return
    schema = body.get("content", {}).get("application/json", {}).get("schema", {})
    component = schemas.get(schema.get("$ref", "").rsplit("/", 1)[-1], schema)
    if component.get("required") or component.get("oneOf"):
        body["required"] = True


def _blank_or_pattern_as_any_of(schemas: dict) -> None:
    """drf-spectacular writes an optional patterned text as oneOf[pattern, maxLength 0]; "" matches both."""
    for component in schemas.values():
        for prop in component.get("properties", {}).values():
            if any(branch.get("maxLength") == 0 for branch in prop.get("oneOf", ())):
                prop["anyOf"] = prop.pop("oneOf")


def document_guide_errors_and_stream(result, generator, request, public):
    """Add the guide, the stream, and the error answers every operation can give (400, 401, 404).

    403 is declared on the views that can refuse (blocks, policies), next to the reason.
    """
    result["info"]["description"] = DESCRIPTION
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for name, component in ERROR_COMPONENTS.items():
        schemas.setdefault(name, component)
    _blank_or_pattern_as_any_of(schemas)
    for path, operations in STREAM_PATH.items():
        result["paths"].setdefault(path, operations)
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            _require_body_with_required_fields(operation, schemas)
            responses = operation.setdefault("responses", {})
            parameters = operation.get("parameters", ())
            takes_input = "requestBody" in operation or any(p.get("in") == "query" for p in parameters)
            if takes_input or "400" in responses:
                responses["400"] = {
                    "description": responses.get("400", {}).get("description") or "Invalid input: field errors.",
                    "content": {"application/json": {"schema": {"oneOf": [
                        {"$ref": "#/components/schemas/FieldErrors"},
                        {"$ref": "#/components/schemas/ErrorDetail"},
                    ]}}},
                }  # fmt: skip  # the two alternatives read as one oneOf
            if any(p.get("name") == "creator" for p in operation.get("parameters", ())):
                responses.setdefault("404", _error("Unknown `creator`.", "ErrorDetail"))
            if {} not in operation.get("security", [{}]):
                responses.setdefault("401", _error("No or invalid credentials.", "ErrorDetail"))
            if "{" in path:
                responses.setdefault("404", _error("Not found, or not visible to the caller.", "ErrorDetail"))
            _document_protocol_errors(method, operation, responses)
    return result


def _with_header(response: dict, name: str, description: str) -> dict:
    return response | {"headers": {name: {"description": description, "schema": {"type": "string"}}}}


def _document_protocol_errors(method: str, operation: dict, responses: dict) -> None:
    """The answers any operation can give whatever its purpose, JSON like every other (video_platform.middleware)."""
    responses.setdefault(
        "405",
        _with_header(
            _error("This method is not allowed on this path.", "ErrorDetail"), "Allow", "The methods that are."
        ),
    )
    if method in ("post", "put", "patch", "delete"):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        responses.setdefault("413", _error(f"The body is larger than {limit} bytes.", "ErrorDetail"))
        responses.setdefault(
            "429",
            _with_header(
                _error("Too many writes (or logins, or sign-ups): slow down.", "ErrorDetail"),
                "Retry-After",
                "Seconds to wait before trying again.",
            ),
        )
    if "requestBody" in operation:
        responses.setdefault("415", _error("The body is not JSON (or not a type this operation reads).", "ErrorDetail"))


def request_bodies_refuse_other_fields(result, generator, request, public):
    """Every request body is read by a strict serializer (``api.StrictInputMixin``): unknown fields are a 400."""
    for name, schema in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request") and schema.get("type") == "object":
            schema["additionalProperties"] = False
    return result
