"""Message texts per kind, Chinese first; fields are filled with str.format."""

from __future__ import annotations

from typing import Any

from api.notifications.models import MessageKind

DEFAULT_LANGUAGE = "zh"

TEMPLATES: dict[MessageKind, dict[str, str]] = {
    MessageKind.DAY_BEFORE: {
        "zh": (
            "【送货通知】{customer}您好，您的订单{order}将于明天（{date}）{slot}{window}送达，"
            "负责师傅：{leader}，电话：{leader_phone}。"
        ),
        "en": (
            "Delivery notice: Dear {customer}, order {order} will be delivered tomorrow "
            "({date}) in the {slot} ({window}). Crew leader: {leader}, phone {leader_phone}."
        ),
    },
    MessageKind.ARRIVING_SOON: {
        "zh": "【送货通知】{customer}您好，送货师傅预计约{eta}到达，请保持电话畅通。订单{order}。",
        "en": "Dear {customer}, our crew expects to arrive at about {eta} (order {order}).",
    },
    MessageKind.DELAYED: {
        "zh": (
            "【延误通知】{customer}您好，很抱歉，送货车辆延误，预计约{eta}到达，"
            "晚于您预约的时段{window}。订单{order}。"
        ),
        "en": (
            "Dear {customer}, we are sorry: our crew is running late and expects to arrive "
            "at about {eta}, after your slot {window} (order {order})."
        ),
    },
    MessageKind.INSTALL_REMINDER: {
        "zh": (
            "【安装提醒】{customer}您好，您的订单{order}将于{date}{slot}（{window}）上门安装，"
            "安装师傅{leader}，电话{leader_phone}。请确认货物已到、现场可施工。"
        ),
        "en": (
            "Dear {customer}, the installation of order {order} is booked for {date}, "
            "{slot} ({window}). Your technician is {leader}, phone {leader_phone}. "
            "Please keep the delivered goods and the site ready."
        ),
    },
}

SLOT_NAMES = {
    "zh": {"morning": "上午", "afternoon": "下午"},
    "en": {"morning": "morning", "afternoon": "afternoon"},
}


def render(kind: MessageKind, language: str, **fields: Any) -> str:
    """The text of a message; an unknown language falls back to Chinese, the store's own."""
    texts = TEMPLATES[kind]
    template = texts.get(language, texts[DEFAULT_LANGUAGE])
    return template.format(**fields)


def slot_name(slot: str, language: str) -> str:
    names = SLOT_NAMES.get(language, SLOT_NAMES[DEFAULT_LANGUAGE])
    return names.get(slot, slot)
