"""What a correction may say: the fields of the record it corrects, each of the type it had.

Every reader of the ledger trusts an entry's fields to be what the service that wrote it
stored (an amount is an integer, counts a list of sku and quantity), so a correction that
stored `"amount_fen": [1]` would break every one of them from then on.
"""

from __future__ import annotations

import math
from typing import Any

from api.core.errors import RuleBroken

# Added by the correction itself, not a field of the record.
CORRECTION_FIELDS = frozenset({"correction_reason"})


def check_fields(recorded: dict[str, Any], corrected: dict[str, Any]) -> None:
    """Refuse a corrected payload whose fields differ in type from the record as first
    written (`recorded`), naming the first field that does."""
    for name, value in corrected.items():
        if name in CORRECTION_FIELDS or name not in recorded:
            continue
        problem = _mismatch(recorded[name], value)
        if problem:
            raise RuleBroken(f"{name}: {problem}", field=name, rule="record_fields")


def _mismatch(recorded: Any, value: Any) -> str | None:
    """Why `value` cannot stand where `recorded` stood, or None when it can."""
    if isinstance(recorded, bool):
        return None if isinstance(value, bool) else "must be true or false, as recorded"
    if isinstance(recorded, int):
        return None if _integer(value) else "must be a whole number, as recorded"
    if isinstance(recorded, float):
        return None if _finite(value) else "must be a finite number, as recorded"
    if isinstance(recorded, str):
        return None if isinstance(value, str) else "must be text, as recorded"
    if isinstance(recorded, list):
        return _list_mismatch(recorded, value)
    if isinstance(recorded, dict):
        return _dict_mismatch(recorded, value)
    # Recorded empty (no device time, no storage place): a plain value may fill it.
    return None if value is None or isinstance(value, str) or _finite(value) else "must be text"


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _finite(value: Any) -> bool:
    return (_integer(value) or isinstance(value, float)) and math.isfinite(value)


def _list_mismatch(recorded: list[Any], value: Any) -> str | None:
    if not isinstance(value, list):
        return "must be a list, as recorded"
    for item in value:
        problem = (
            _mismatch(recorded[0], item)
            if recorded
            else (None if isinstance(item, str) or _finite(item) else "must hold plain values")
        )
        if problem:
            return f"each item {problem}" if not problem.startswith("each") else problem
    return None


def _dict_mismatch(recorded: dict[str, Any], value: Any) -> str | None:
    if not isinstance(value, dict) or set(value) != set(recorded):
        return f"must have the fields {sorted(recorded)}, as recorded"
    for key, item in value.items():
        problem = _mismatch(recorded[key], item)
        if problem:
            return f"{key} {problem}"
    return None
