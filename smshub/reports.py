"""Error reports that hide secrets whatever DEBUG says (SPEC §8).

Django's SafeExceptionReporterFilter honours `sensitive_variables` and
`sensitive_post_parameters` only when DEBUG is off; the technical 500 page of a DEBUG server
(a developer's, or a production one switched on to chase a bug) then shows every saved
password. This filter is always active.
"""

from __future__ import annotations

from django.views.debug import SafeExceptionReporterFilter


class AlwaysSafeExceptionReporterFilter(SafeExceptionReporterFilter):
    def is_active(self, request) -> bool:
        return True
