"""What a repair taken back costs the customer: the one place the register asks for a price.

Until the fees module (warranty, price list, fee collection) is wired in, the charge is the
repair card's hours at the settings' hourly rate plus its parts at the settings' prices;
under warranty it is nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from api.core.errors import RuleBroken
from optimizer.settings import DispatchSettings


def unpriced_parts(settings: DispatchSettings, codes: Iterable[str]) -> list[str]:
    """The part codes the store's parts list does not price."""
    return [code for code in codes if code not in settings.repair_part_prices_cny]


def check_parts(settings: DispatchSettings, codes: Iterable[str]) -> None:
    """A repair card names only parts of the store's list, so its return can be charged."""
    unknown = unpriced_parts(settings, codes)
    if unknown:
        raise RuleBroken(
            f"parts not on the store's parts list (repair_part_prices_cny): {', '.join(unknown)}",
            field="parts",
            rule="known_part",
        )


def repair_charge(
    settings: DispatchSettings,
    *,
    under_warranty: bool,
    labour_hours: float,
    parts: Iterable[Mapping[str, object]],
) -> dict[str, int]:
    """The charge in fen, labour and parts apart: {labour_fen, parts_fen, amount_fen}."""
    if under_warranty:
        return {"labour_fen": 0, "parts_fen": 0, "amount_fen": 0}
    parts = list(parts)
    check_parts(settings, (str(part["code"]) for part in parts))  # the list may have changed
    labour = round(labour_hours * settings.repair_labour_cny_per_hour * 100)
    prices = settings.repair_part_prices_cny
    parts_fen = 0
    for part in parts:
        code, quantity = str(part["code"]), part["quantity"]
        assert isinstance(quantity, int)
        parts_fen += round(prices[code] * 100) * quantity
    return {"labour_fen": labour, "parts_fen": parts_fen, "amount_fen": labour + parts_fen}
