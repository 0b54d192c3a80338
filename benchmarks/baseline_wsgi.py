"""WSGI entry of the baselines: the hub's settings with `benchmarks.baseline_urls` as the
URLconf, served by gunicorn exactly as `smshub.wsgi` is.

    gunicorn benchmarks.baseline_wsgi --workers 2 --threads 4
"""

from __future__ import annotations

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smshub.settings")
settings.ROOT_URLCONF = "benchmarks.baseline_urls"
application = get_wsgi_application()
