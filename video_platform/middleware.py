import json
import logging
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import DisallowedHost, RequestDataTooBig
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.urls import is_valid_path
from django.utils.deprecation import MiddlewareMixin
from django.utils.http import escape_leading_slashes

security_logger = logging.getLogger("django.security.DisallowedHost")


def _detail(request, response) -> str:
    status = response.status_code
    if status == 404:
        return "Not found."
    if status == 405:
        return f'Method "{request.method}" not allowed.'
    if status >= 500:
        return "Server error."
    if 300 <= status < 400 and response.has_header("Location"):
        return f"See {response['Location']}."
    return f"{HTTPStatus(status).phrase}."


class ApiErrorsAsJsonMiddleware(MiddlewareMixin):
    """Under /api/, every answer Django or a plain view would give as HTML (a URL matching no route, even
    with DEBUG's technical pages; a missing trailing slash; a wrong method; a bad Host header; a body over
    DATA_UPLOAD_MAX_MEMORY_SIZE; an unhandled error) is JSON ``{"detail": …}``: the contract says JSON
    everywhere. First in MIDDLEWARE, so it also sees what the other middleware answer.
    """

    def process_request(self, request):
        if not request.path.startswith("/api/"):
            return None
        try:
            request.get_host()
        except DisallowedHost as exc:
            security_logger.error(str(exc), extra={"status_code": 400, "request": request})
            return JsonResponse({"detail": "Invalid Host header."}, status=400)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if limit is not None and declared.isdigit() and int(declared) > limit:
            return self._too_large()
        return self._missing_slash(request)

    def process_exception(self, request, exception):
        if request.path.startswith("/api/") and isinstance(exception, RequestDataTooBig):
            return self._too_large()
        return None

    def process_response(self, request, response):
        status = response.status_code
        if (
            not request.path.startswith("/api/")
            or response.streaming
            or status < 300
            or status == 304
            or response.get("Content-Type", "").startswith("application/json")
        ):
            return response
        # Rewritten in place, so the headers set on the way out (Allow, Retry-After, security) stay.
        response.content = json.dumps({"detail": _detail(request, response)})
        response["Content-Type"] = "application/json"
        if response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))
        return response

    @staticmethod
    def _too_large():
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return JsonResponse({"detail": f"Request body too large: at most {limit} bytes."}, status=413)

    @staticmethod
    def _missing_slash(request):
        """A route written without its trailing slash: 308 (which keeps the method and body) naming the URL.

        CommonMiddleware would answer 301, which clients follow as a GET without the body, or, with DEBUG,
        a 500 for a POST.
        """
        path = request.path_info
        urlconf = getattr(request, "urlconf", None)
        if not settings.APPEND_SLASH or path.endswith("/") or is_valid_path(path, urlconf):
            return None
        if not is_valid_path(f"{path}/", urlconf):
            return None
        location = escape_leading_slashes(f"{request.path}/")
        query = request.META.get("QUERY_STRING", "")
        return HttpResponsePermanentRedirect(
            f"{location}?{query}" if query else location,
            preserve_request=True,
            content=json.dumps({"detail": f"This URL ends with a slash: {location}"}),
            content_type="application/json",
        )
