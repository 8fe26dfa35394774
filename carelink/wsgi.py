import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carelink.settings")
application = get_wsgi_application()

# After Django is set up: a server that cannot serve its pages does not start.
from carelink.checks import refuse_to_serve_on_errors  # noqa: E402

refuse_to_serve_on_errors()
