"""The browsable API docs under the site's Content-Security-Policy."""

from drf_spectacular.views import SpectacularSwaggerSplitView


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI with no inline script or style: the start-up script is served by
    this same view (`?script`, as JavaScript from 'self'), so /api/docs/ runs under
    the same policy as every other page (docs/security.md)."""

    template_name = "accounts/api_docs.html"
