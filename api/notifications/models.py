"""The outbox: one row per message a customer is to receive, keyed so it exists only once."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlmodel import Field, SQLModel

from api.auth.models import utcnow


class MessageKind(StrEnum):
    DAY_BEFORE = "day_before"  # tomorrow's slot and crew leader, by customer_notice_by
    ARRIVING_SOON = "arriving_soon"  # on the day, within two hours of the planned arrival
    DELAYED = "delayed"  # the crew's delay pushes the arrival out of the slot
    INSTALL_REMINDER = "install_reminder"  # reserved for installations after delivery


class MessageStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by one worker; nobody else sends it
    SENT = "sent"
    FAILED = "failed"  # gave up after MAX_ATTEMPTS


class MessageBase(SQLModel):
    kind: MessageKind
    date: dt.date  # the day of the visit the message is about
    order_id: int | None = None
    external_id: str = Field(default="", max_length=64)
    channel: str = Field(default="sms", max_length=16)
    recipient: str = Field(max_length=32)
    language: str = Field(default="zh", max_length=8)
    text: str = Field(max_length=1000)


class Message(MessageBase, table=True):
    __tablename__ = "notification_message"
    id: int | None = Field(default=None, primary_key=True)
    # "<kind>:<date>:<external id>": the database refuses a second message of the same kind
    # for the same visit, whoever generates it and however often.
    dedup_key: str = Field(max_length=160, unique=True)
    area_code: str = Field(foreign_key="area.code", index=True, max_length=32)
    date: dt.date = Field(index=True)
    order_id: int | None = Field(default=None, foreign_key="order.id")
    status: MessageStatus = Field(default=MessageStatus.PENDING, index=True)
    attempts: int = 0
    last_error: str = Field(default="", max_length=500)
    created_at: dt.datetime = Field(default_factory=utcnow)
    sent_at: dt.datetime | None = None


class MessagePublic(MessageBase):
    id: int
    area_code: str
    dedup_key: str
    status: MessageStatus
    attempts: int
    last_error: str
    created_at: dt.datetime
    sent_at: dt.datetime | None


class GenerateResult(SQLModel):
    created: int = 0
    existing: int = 0  # already in the outbox from an earlier run


class DeliverResult(SQLModel):
    sent: int = 0
    failed: int = 0  # attempts that failed this run (the message may be retried)
