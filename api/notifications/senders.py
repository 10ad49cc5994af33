"""Where messages go: the log by default, or an SMS gateway behind a webhook."""

from __future__ import annotations

import logging
from typing import Protocol

import httpx

from api.core.config import ServiceSettings
from api.core.errors import RuleBroken
from api.notifications.models import Message

log = logging.getLogger("dispatch.notifications")


class Sender(Protocol):
    def send(self, message: Message) -> None:
        """Hand the message on; raise on any failure so it is retried."""


class LogSender:
    """Writes each message to the log: development, demos, and stores without a gateway."""

    def send(self, message: Message) -> None:
        log.info(
            "notify %s %s to %s: %s",
            message.channel,
            message.dedup_key,
            message.recipient,
            message.text,
        )


class WebhookSender:
    """POSTs each message as JSON; the gateway drops repeats by the Idempotency-Key."""

    def __init__(self, url: str, *, client: httpx.Client | None = None) -> None:
        self.url = url
        self.client = client or httpx.Client(timeout=10.0)

    def send(self, message: Message) -> None:
        body = {
            "id": message.id,
            "kind": message.kind.value,
            "channel": message.channel,
            "to": message.recipient,
            "language": message.language,
            "text": message.text,
            "order": message.external_id,
            "date": message.date.isoformat(),
        }
        answer = self.client.post(
            self.url, json=body, headers={"Idempotency-Key": message.dedup_key}
        )
        answer.raise_for_status()


def sender_for(settings: ServiceSettings) -> Sender:
    """The sender the settings name: "log" or "webhook"."""
    if settings.notify_sender == "log":
        return LogSender()
    if settings.notify_sender == "webhook":
        if not settings.notify_webhook_url:
            raise RuleBroken(
                "notify_sender is webhook but DISPATCH_NOTIFY_WEBHOOK_URL is not set",
                field="notify_webhook_url",
            )
        return WebhookSender(settings.notify_webhook_url)
    raise RuleBroken(
        f"notify_sender must be 'log' or 'webhook', got {settings.notify_sender!r}",
        field="notify_sender",
    )
