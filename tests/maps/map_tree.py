"""Walking a folium map's element tree, for the map tests that assert on what it holds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from branca.element import Element


def walk(element: Element) -> Iterator[Element]:
    """Every element below `element`, depth first."""
    for child in element._children.values():
        yield child
        yield from walk(child)


def of(element: Element, kind: type) -> list[Any]:
    """The elements of one kind below `element`, in the order folium renders them."""
    return [child for child in walk(element) if isinstance(child, kind)]
