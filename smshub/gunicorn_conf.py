"""gunicorn settings of the hub: `gunicorn smshub.wsgi -c python:smshub.gunicorn_conf …`.

Only the logger class is set here (the address, workers and log files stay on the command
line): gunicorn's access log prints each request's path, so its handlers, whatever the
command line or a log config chose, redact callback tokens (smshub/logredact.py).
"""

from __future__ import annotations

from gunicorn.glogging import Logger

from smshub import logredact


class RedactingLogger(Logger):
    def setup(self, cfg) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log, self.error_log.root):
            logredact.install(log)


logger_class = RedactingLogger
