"""No app module grows past what one person reads in one sitting: over ~400 lines a module
is doing more than one job and is split by job (docs/decisions.md, "Layers")."""

from __future__ import annotations

from tests.architecture.test_layers import app_modules

MAX_LINES = 400


def test_no_app_module_is_over_400_lines():
    long = {
        name: lines
        for name, path in app_modules().items()
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}
