import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.prod")

application = get_wsgi_application()

# runserver loads this module too (WSGI_APPLICATION), in the process that serves: there, and only
# there without a broker, the development server runs the beat schedule (config/embedded_beat.py).
# Under gunicorn it starts nothing.
from config.embedded_beat import start_in_development_server  # noqa: E402 - needs the apps loaded

start_in_development_server()
