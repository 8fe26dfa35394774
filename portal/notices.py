"""The email notices' opt-out page (docs/portal.md, "Emails"): no sign-in,
the signed link is the credential.

`GET` shows one button; `POST` stops the emails. A mail client that honours
`List-Unsubscribe-Post` posts to the same address in one click. The GET itself
changes nothing, because mail scanners open links before people do.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from portal.events import client_of_opt_out
from portal.services import stop_email_notices


# The token is the credential, and a mail client's one-click POST carries no
# CSRF token; stopping emails is all this view can do.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def stop_notices(request: HttpRequest, token: str) -> HttpResponse:
    client_id = client_of_opt_out(token)
    if client_id is None:
        return render(request, "portal_notices/stop.html", {"invalid": True}, status=404)
    if request.method == "POST":
        stop_email_notices(client_id)
        return render(request, "portal_notices/stop.html", {"stopped": True})
    return render(request, "portal_notices/stop.html", {"token": token})
