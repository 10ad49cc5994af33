"""One canonical JSON and its SHA-256, for every place that must recognise the same content:
retried requests (orders, tickets, ledger writes) and the ledger's hash chain."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(value: Any) -> str:
    """SHA-256 of the canonical JSON, so the same content matches whatever its key order."""
    return hashlib.sha256(canonical(value).encode()).hexdigest()
