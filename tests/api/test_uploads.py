"""Size limits and images: a body past the limit is refused before it is read, images are
decoded in full, and no refusal echoes what was sent."""

from __future__ import annotations

import base64
import io
import json
import os
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from api_keys import KeyMaker
from fastapi.testclient import TestClient
from ledger_helpers import AT, GPS, PNG, on_the_day, published_day_database, record
from PIL import Image
from plan_helpers import DAY, engine_of
from sqlmodel import Session, col, select

from api.core.config import ServiceSettings
from api.records.kinds import Kind
from api.records.models import Attachment, LedgerEntry

COUNTS = [{"sku": "SOFA-3", "quantity": 1}, {"sku": "PIL-1", "quantity": 2}]


prepared_database = published_day_database


@pytest.fixture
def day(settings: ServiceSettings) -> Iterator[TestClient]:
    """The seeded day, published; the service as of its morning."""
    yield from on_the_day(settings)


def at_the_door(client: TestClient, key_for: KeyMaker) -> dict[str, str]:
    """C01 on the road, at SO-01 with the goods counted; the C01 driver's headers."""
    record(client, Kind.DEPARTED, "SO-01")
    record(client, Kind.ARRIVED, "SO-01")
    lines = [{**line, "ordered": line["quantity"]} for line in COUNTS]
    record(client, Kind.DELIVERED, "SO-01", counts=lines, complete=True)
    return key_for("driver", "C01")


def write(client: TestClient, path: str, headers: dict[str, str], **send: Any) -> httpx.Response:
    headers = {**headers, "Idempotency-Key": uuid.uuid4().hex, "Content-Type": "application/json"}
    return client.post(f"/handover/{DAY.isoformat()}{path}", headers=headers, **send)


def photo(size: int, kind: str = "JPEG") -> str:
    """A real image of noise (which does not compress), about `size` bytes, base64."""
    side = max(8, int((size / 3) ** 0.5)) if kind == "PNG" else max(8, int((size / 1.1) ** 0.5))
    noise = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    out = io.BytesIO()
    noise.save(out, format=kind, **({"quality": 95} if kind == "JPEG" else {}))
    return base64.b64encode(out.getvalue()).decode()


def sign_off(**extra: Any) -> dict[str, Any]:
    body = {"at": AT, **GPS, "signer_name": "张三", "signature_png": PNG, "amount_cny": 0}
    return {**body, "counts": COUNTS, **extra}


def kept(client: TestClient, kind: Kind) -> list[LedgerEntry]:
    with Session(engine_of(client)) as session:
        return list(session.exec(select(LedgerEntry).where(LedgerEntry.kind == kind)))


def test_a_sign_off_past_the_body_limit_is_refused_unread(
    day: TestClient, key_for: KeyMaker
) -> None:
    """Ten 2 MB photos (26.5 MB of JSON) are a 413 naming the limit; nothing is kept."""
    driver = at_the_door(day, key_for)
    body = json.dumps(sign_off(photos=[photo(2_000_000)] * 10)).encode()
    assert len(body) > 26_000_000
    answer = write(day, "/stops/SO-01/signoff", driver, content=body)
    assert answer.status_code == 413, answer.text[:300]
    assert answer.json()["rule"] == "max_request_bytes" and len(answer.content) < 300
    assert kept(day, Kind.SIGNED_OFF) == []


def test_a_streamed_body_is_cut_off_at_the_limit(day: TestClient, key_for: KeyMaker) -> None:
    """A body sent in chunks without a length is counted as it comes and refused at 413."""
    driver = at_the_door(day, key_for)

    def chunks() -> Iterator[bytes]:
        yield b'{"at": "' + AT.encode() + b'", "lat": 30.66, "lon": 104.07, "image": "'
        for _ in range(20):
            yield b"A" * 1_000_000
        yield b'"}'

    answer = write(day, "/stops/SO-01/photos", driver, content=chunks())
    assert answer.status_code == 413
    assert answer.json()["rule"] == "max_request_bytes" and b"AAAA" not in answer.content


def test_a_20_mb_photo_body_is_not_echoed(day: TestClient, key_for: KeyMaker) -> None:
    """20 MB to /photos is answered with a short 413, never the body sent back."""
    driver = at_the_door(day, key_for)
    body = {"at": AT, **GPS, "image": "A" * 20_000_000}
    answer = write(day, "/stops/SO-01/photos", driver, content=json.dumps(body))
    assert answer.status_code == 413 and len(answer.content) < 300
    unread = write(day, "/stops/SO-01/photos", driver, content=b"{" + b"A" * 20_000_000)
    assert unread.status_code == 413  # not a 422: the broken JSON was never parsed


def test_more_photos_than_the_settings_allow_is_413(
    day: TestClient, key_for: KeyMaker, settings: ServiceSettings
) -> None:
    """One photo past max_photos is a 413 naming the field and the limit."""
    driver = at_the_door(day, key_for)
    photos = [photo(2_000) for _ in range(settings.max_photos + 1)]
    answer = write(day, "/stops/SO-01/signoff", driver, json=sign_off(photos=photos))
    assert answer.status_code == 413
    assert (answer.json()["field"], answer.json()["rule"]) == ("photos", "max_photos")
    assert kept(day, Kind.SIGNED_OFF) == []


def test_a_photo_past_its_size_limit_is_413(
    day: TestClient, key_for: KeyMaker, settings: ServiceSettings
) -> None:
    """A photo one byte past max_photo_bytes is a 413; one within it is kept as a JPEG."""
    driver = at_the_door(day, key_for)
    record(day, Kind.DEPARTED, "SO-02")
    big = photo(settings.max_photo_bytes + 50_000)
    assert len(base64.b64decode(big)) > settings.max_photo_bytes
    answer = write(day, "/stops/SO-01/photos", driver, json={"at": AT, **GPS, "image": big})
    assert answer.status_code == 413
    assert (answer.json()["field"], answer.json()["rule"]) == ("image", "max_photo_bytes")
    small = write(
        day, "/stops/SO-01/photos", driver, json={"at": AT, **GPS, "image": photo(50_000)}
    )
    assert small.status_code == 201, small.text
    with Session(engine_of(day)) as session:
        stored = session.get(Attachment, small.json()["payload"]["image_sha256"])
        assert stored is not None and stored.content_type == "image/jpeg"


@pytest.mark.parametrize(
    "content",
    [
        b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>",  # a PNG header, then HTML
        b"\xff\xd8\xff\xe0<html></html>",  # a JPEG header, then HTML
        base64.b64decode(PNG)[:300],  # a real PNG cut short
    ],
)
def test_only_images_that_decode_are_kept(
    day: TestClient, key_for: KeyMaker, content: bytes
) -> None:
    """A file that only starts like an image is a 422 naming the field; nothing is kept."""
    driver = at_the_door(day, key_for)
    body = {"at": AT, **GPS, "image": base64.b64encode(content).decode()}
    answer = write(day, "/stops/SO-01/photos", driver, json=body)
    assert answer.status_code == 422 and answer.json()["field"] == "image"
    signature = write(
        day, "/stops/SO-01/signoff", driver, json={**sign_off(), "signature_png": body["image"]}
    )
    assert signature.status_code == 422 and signature.json()["field"] == "signature_png"
    with Session(engine_of(day)) as session:
        assert session.exec(select(Attachment)).all() == []


def test_a_correction_cannot_store_a_huge_string(
    day: TestClient, key_for: KeyMaker, settings: ServiceSettings
) -> None:
    """A correction's text past max_text_chars is a 413 naming the field; 20 MB never arrives."""
    driver = at_the_door(day, key_for)
    record(day, Kind.PHOTO, "SO-01", caption="门口", image_sha256="0" * 64)
    (original,) = kept(day, Kind.PHOTO)
    path = f"/records/{original.id}/corrections"
    long = "长" * (settings.max_text_chars + 1)
    answer = write(day, path, driver, json={"reason": "typo", "changes": {"caption": long}})
    assert answer.status_code == 413
    assert (answer.json()["field"], answer.json()["rule"]) == ("changes.caption", "max_text_chars")
    huge = json.dumps({"reason": "typo", "changes": {"caption": "x" * 20_000_000}})
    assert write(day, path, driver, content=huge).status_code == 413
    with Session(engine_of(day)) as session:
        corrections = session.exec(
            select(LedgerEntry).where(col(LedgerEntry.corrects).is_not(None))
        )
        assert corrections.all() == []


def test_a_driver_reads_only_their_own_crews_images(day: TestClient, key_for: KeyMaker) -> None:
    """Another crew's driver gets 403 on a signature by its hash; the crew and dispatch read it."""
    driver = at_the_door(day, key_for)
    signed = write(day, "/stops/SO-01/signoff", driver, json=sign_off(photos=[photo(5_000)]))
    assert signed.status_code == 201, signed.text
    payload = signed.json()["payload"]
    for sha in (payload["signature_sha256"], payload["photos_sha256"][0]):
        path = f"/handover/attachments/{sha}"
        assert day.get(path, headers=key_for("driver", "C02")).status_code == 403
        assert day.get(path, headers=driver).status_code == 200
        assert day.get(path, headers=key_for("dispatcher")).status_code == 200
    assert day.get(f"/handover/attachments/{'0' * 64}", headers=driver).status_code == 404
