"""Parsing JSON that strangers send us (callbacks, provider answers) without a crash.

`json.loads` raises RecursionError, not ValueError, on a document nested deeper than the
interpreter's recursion limit (`[[[[…` 200,000 deep): left alone, that is a 500 answer and a
request retried for ever. Here it is one more kind of invalid JSON.
"""

from __future__ import annotations

import json
from typing import Any


class TooDeep(ValueError):
    """The document is nested more deeply than we can read."""


def loads(text: str | bytes) -> Any:
    """`json.loads`, with a too-deep document raising TooDeep (a ValueError)."""
    try:
        return json.loads(text)
    except RecursionError:
        raise TooDeep("it is nested too deeply") from None
