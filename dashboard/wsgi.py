"""WSGI entry point for gunicorn: ``gunicorn dashboard.wsgi:server`` (settings in gunicorn.conf.py).

Importing this module reads the settings, sends the app's logs through analytics/logs.py (logfmt or JSON on
stderr, like the refresh job) and builds the app — without reading any data or opening the store, so
gunicorn can load it once in the master (``preload_app``) and fork the workers.

The garbage collector is paused while the libraries and the app are built (a quarter of a million objects
that live as long as the process: collecting over and over while they are created took 0.2-0.3 s of every
start, docs/PERFORMANCE.md section 6), then those objects are frozen: later collections skip them, and
the workers forked from the master leave their pages shared (Python's recipe for ``gc.freeze``).
"""

import gc

gc.disable()

from analytics.logs import configure_logging  # noqa: E402 - imported with the collector paused
from analytics.settings import load_settings  # noqa: E402
from dashboard.app import create_app  # noqa: E402

settings = load_settings()
configure_logging(settings.log_format)
app = create_app(settings)
server = app.server

gc.freeze()
gc.enable()
