"""The board's list of customers' goods held past goods_overdue_days: the register's overdue
rows, read from the same function as GET /repairs/register, so the two never disagree."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlmodel import Session

from api.core.config import ServiceSettings
from api.repairs.models import RegisterRow
from api.repairs.paper import register_rows
from api.repairs.service import held

GOODS_WORDS: Mapping[str, Mapping[str, str]] = {
    "zh": {
        "goods_overdue": "超期未送还的客户商品",
        "goods_receipt": "收据编号",
        "goods_customer": "客户",
        "goods_product": "商品",
        "goods_age": "已存放（天）",
    },
    "en": {
        "goods_overdue": "Customers' goods held too long",
        "goods_receipt": "Receipt",
        "goods_customer": "Customer",
        "goods_product": "Product",
        "goods_age": "Held (days)",
    },
}


def overdue_goods(
    *, session: Session, settings: ServiceSettings, area: str, today: dt.date
) -> list[RegisterRow]:
    """The area's goods held longer than goods_overdue_days, the oldest first."""
    rows = held(session, areas=(area,), everything=False)
    listed = register_rows(rows, today={area: today}, overdue_days=settings.goods_overdue_days)
    return [row for row in listed if row.overdue]
