"""Types the API tests share; a module of its own so its name is unique across folders."""

from __future__ import annotations

from collections.abc import Callable

# key_for(role, vehicle_code=None, areas=None) -> Authorization headers for a fresh key of
# that role, scoped to those areas (None: the whole chain)
KeyMaker = Callable[..., dict[str, str]]
