"""Friendly 403/404/500 pages on every page route, DEBUG or not.

Without DEBUG Django renders 403.html, 404.html and 500.html itself. With DEBUG on (as `make demo` runs)
it would show its technical pages, which list every URL pattern and would end a live demo; this
middleware answers the same friendly templates instead. Paths under /api/ are left to the API's JSON
errors.
"""

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.template.loader import render_to_string

logger = logging.getLogger("django.request")


def friendly_error_response(request, status: int) -> HttpResponse:
    return HttpResponse(render_to_string(f"{status}.html", request=request), status=status)


def _is_page(request) -> bool:
    return settings.DEBUG and not request.path.startswith("/api/")


class FriendlyErrorPagesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # A URL that matches no route never reaches a view, so process_exception does not see it.
        if _is_page(request) and response.status_code == 404 and getattr(request, "resolver_match", None) is None:
            return friendly_error_response(request, 404)
        return response

    def process_exception(self, request, exception):
        if not _is_page(request):
            return None
        if isinstance(exception, Http404):
            return friendly_error_response(request, 404)
        if isinstance(exception, PermissionDenied):
            return friendly_error_response(request, 403)
        # Django calls process_exception inside its own except block: the traceback is there to log.
        logger.exception("Internal Server Error: %s", request.path)  # noqa: LOG004
        return friendly_error_response(request, 500)
