"""The register's paper: the customer's receipt (客户商品领取收据) and the register's rows.

The receipt's wording is the after-sales rules' (articles 6 and 7 of the service forms): the
technician issues it when the goods are taken back, and takes it back, voided, on return.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence

from api.core.spreadsheet import csv_bytes
from api.repairs.models import GoodsStatus, RegisterRow, TakeBack

RECEIPT_TITLE = "客户商品领取收据"
# What the store promises on the receipt, from the after-sales rules.
RECEIPT_TERMS = (
    "本商品现场不能修妥，由本公司技术员携回修护，并已登录“客户商品进出登记簿”。",
    "商品修妥经主管验讫后，本公司与您约定时间送还，送还时请您在服务凭证上签章。",
    "送还商品时请将本收据交还技术员，收据即予作废。",
)
REGISTER_HEAD = (
    "receipt_no",
    "area",
    "customer",
    "product",
    "status",
    "taken_on",
    "age_days",
    "overdue",
    "returned_at",
)


def register_rows(
    rows: Sequence[TakeBack], *, today: dict[str, dt.date], overdue_days: int
) -> list[RegisterRow]:
    """Each row with its age in days on its area's clock (`today` by area); goods back with
    the customer are aged up to the day they went out."""
    listed = []
    for row in rows:
        end = row.returned_on or today[row.area_code]
        age = max((end - row.taken_on).days, 0)
        held = row.status != GoodsStatus.OUT
        listed.append(
            RegisterRow(
                id=row.id or 0,
                receipt_no=row.receipt_no,
                area_code=row.area_code,
                customer_name=row.customer_name,
                product=row.product,
                status=row.status,
                taken_on=row.taken_on,
                age_days=age,
                overdue=held and age > overdue_days,
                returned_at=row.returned_at,
            )
        )
    return listed


def register_csv(rows: Sequence[RegisterRow]) -> bytes:
    body = [
        (
            r.receipt_no,
            r.area_code,
            r.customer_name,
            r.product,
            r.status.value,
            r.taken_on.isoformat(),
            r.age_days,
            "yes" if r.overdue else "",
            r.returned_at.isoformat() if r.returned_at else "",
        )
        for r in rows
    ]
    return csv_bytes((REGISTER_HEAD, body))


def receipt_html(row: TakeBack, *, store: str) -> str:
    """The printable receipt; every value escaped, since the technician types them."""
    fields = (
        ("收据编号 Receipt no.", row.receipt_no),
        ("门店 Store", store),
        ("客户 Customer", row.customer_name),
        ("电话 Phone", row.customer_phone),
        ("商品 Product", row.product),
        ("型号/序列号 Serial", row.serial),
        ("外观状况 Condition", row.condition),
        ("附件 Accessories", row.accessories),
        ("故障 Fault", row.fault),
        ("保修 Warranty", "保修期内 under warranty" if row.under_warranty else "有偿维修 paid"),
        ("携回日期 Taken on", row.taken_on.isoformat()),
        ("技术员 Technician", row.vehicle_code),
    )
    cells = "".join(f"<tr><th>{_e(name)}</th><td>{_e(value)}</td></tr>" for name, value in fields)
    terms = "".join(f"<li>{_e(term)}</li>" for term in RECEIPT_TERMS)
    closed = (
        f'<p class="void">已送还，收据作废 · returned {row.returned_at:%Y-%m-%d}</p>'
        if row.status == GoodsStatus.OUT and row.returned_at
        else ""
    )
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{_e(RECEIPT_TITLE)} {_e(row.receipt_no)}</title><style>{STYLE}</style></head>"
        f"<body><h1>{_e(RECEIPT_TITLE)}</h1><table>{cells}</table><ol>{terms}</ol>{closed}"
        "<p>客户签收 Customer: ____________ 技术员 Technician: ____________</p></body></html>"
    )


STYLE = """
body { font-family: sans-serif; margin: 2em; max-width: 40em; }
th { text-align: left; padding-right: 1em; white-space: nowrap; }
td, th { border-bottom: 1px solid #ccc; padding: .3em; }
.void { font-weight: bold; color: #a00; }
"""


def _e(text: str) -> str:
    return html.escape(text, quote=True)
