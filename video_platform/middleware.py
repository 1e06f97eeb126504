from django.http import JsonResponse


class ApiErrorsAsJsonMiddleware:
    """Under /api/, Django's own HTML error pages (a URL that matches no route, even with DEBUG's technical
    404 page, or an unhandled error) are answered as JSON ``{"detail": …}``: the contract says JSON everywhere.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code in (404, 500)
            and response.get("Content-Type", "").startswith("text/html")
        ):
            detail = "Not found." if response.status_code == 404 else "Server error."
            return JsonResponse({"detail": detail}, status=response.status_code)
        return response


class RepeatedQueryParametersMiddleware:
    """Under /api/, a query parameter given twice is a 400 naming it: no endpoint takes a list in the query,
    and silently using the last value hides a client's mistake."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/"):
            repeated = sorted(name for name, values in request.GET.lists() if len(values) > 1)
            if repeated:
                return JsonResponse({name: ["Give this parameter once."] for name in repeated}, status=400)
        return self.get_response(request)
