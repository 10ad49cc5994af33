"""The running service as the browser tests see it; a module of its own so its name is unique."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

import httpx

from api.auth.models import ApiKeyCreate, Role
from api.auth.service import issue_key
from api.core.clock import Clock


@dataclass
class LiveService:
    """A running service: its address, its clock (tests move it) and an admin HTTP client."""

    url: str
    clock: Clock
    app: Any
    admin: httpx.Client

    def key(self, role: Role, vehicle_code: str | None = None, name: str = "") -> str:
        from sqlmodel import Session

        with Session(self.app.state.engine) as session:
            request = ApiKeyCreate(name=name or str(role), role=role, vehicle_code=vehicle_code)
            return issue_key(session=session, request=request).key

    def sign_in(self, context: Any, key: str) -> Any:
        """A new page of the browser context, signed in with `key` through the sign-in page."""
        page = context.new_page()
        page.goto(f"{self.url}/app/sign-in")
        page.fill("#key", key)
        page.click("#sign-in")
        page.wait_for_url(lambda address: "/sign-in" not in address)
        return page

    def plan(self, date: dt.date, time_limit_s: float = 2) -> int:
        """The id of the plan a planning job of `date` made, through the API, as a desk asks."""
        body = {"date": date.isoformat(), "time_limit_s": time_limit_s}
        job = self.admin.post("/plans", json=body).json()
        for _ in range(600):
            job = self.admin.get(f"/plans/jobs/{job['id']}").json()
            if job["status"] in ("succeeded", "failed", "cancelled"):
                break
            time.sleep(0.1)
        assert job["status"] == "succeeded", job
        return int(job["plan_id"])

    def client(self, key: str) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)
