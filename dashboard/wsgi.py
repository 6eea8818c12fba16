"""WSGI entry point for gunicorn: ``gunicorn dashboard.wsgi:server`` (settings in gunicorn.conf.py).

Importing this module reads the settings, sends the app's logs through analytics/logs.py (logfmt or JSON on
stderr, like the refresh job) and builds the app — without reading any data or opening the store, so
gunicorn can load it once in the master (``preload_app``) and fork the workers.
"""

from analytics.logs import configure_logging
from analytics.settings import load_settings
from dashboard.app import create_app

settings = load_settings()
configure_logging(settings.log_format)
app = create_app(settings)
server = app.server
