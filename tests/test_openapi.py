import pytest
from django.core.management import call_command

from .clients import api_client

pytestmark = pytest.mark.django_db


def test_openapi_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))


def test_schema_is_served_to_anonymous_clients_and_documents_the_stream():
    schema = api_client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    stream = schema["paths"]["/api/inbox/stream/"]["get"]
    assert "text/event-stream" in stream["responses"]["200"]["content"]
    assert "Last-Event-ID" in [p["name"] for p in stream["parameters"]]


def test_schema_documents_refusals_and_error_shapes():
    schema = api_client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    share = schema["paths"]["/api/videos/{id}/shares/"]["post"]["responses"]
    assert share["403"]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/ErrorDetail"
    assert share["400"]["content"]["application/json"]["schema"]["oneOf"] == [
        {"$ref": "#/components/schemas/FieldErrors"},
        {"$ref": "#/components/schemas/ErrorDetail"},
    ]
    assert share["401"]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/ErrorDetail"
    signup = schema["paths"]["/api/users/"]["post"]["responses"]
    assert "401" not in signup


def test_schema_says_a_notification_actor_may_be_null():
    schema = api_client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    actor = schema["components"]["schemas"]["Notification"]["properties"]["actor"]
    assert actor["nullable"] is True


def test_swagger_ui_is_served_from_local_static_files():
    page = api_client().get("/api/docs/").content.decode()
    assert "swagger-ui" in page
    assert "cdn.jsdelivr.net" not in page


def test_schema_lists_the_protocol_errors_every_operation_can_answer():
    schema = api_client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert responses["405"]["headers"]["Allow"], (method, path)
            if method in ("post", "put", "patch", "delete"):
                assert {"413", "429"} <= set(responses), (method, path)
                assert "Retry-After" in responses["429"]["headers"]
            if "requestBody" in operation:
                assert "415" in responses, (method, path)
    share = schema["paths"]["/api/videos/{id}/shares/"]["post"]["responses"]
    for status in ("405", "413", "415", "429"):
        assert share[status]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/ErrorDetail"


def test_schema_says_the_unread_count_is_capped_at_999():
    schema = api_client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    unread = schema["components"]["schemas"]["UnreadCount"]
    assert set(unread["required"]) == {"total", "by_category", "capped"}
    assert unread["properties"]["capped"]["type"] == "boolean"
    assert unread["properties"]["total"]["maximum"] == 999
    unread_count = schema["paths"]["/api/inbox/unread-count/"]["get"]["responses"]["200"]
    assert unread_count["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/UnreadCount"
