"""The service's settings: the business constants plus where the service keeps its data.

One object, read from the environment (prefix DISPATCH_); the business part is the
optimizer's own DispatchSettings so the rules are defined in exactly one place.
"""

from __future__ import annotations

from functools import lru_cache

from optimizer.settings import DispatchSettings


class ServiceSettings(DispatchSettings):
    database_url: str = "sqlite:///dispatch.db"
    # A key created at start-up with the admin role, so a fresh install can be used at all.
    bootstrap_admin_key: str = ""
    run_scheduler: bool = True  # start tomorrow's plan at planning_time every day
    worker_threads: int = 1
    default_plan_seconds: float = 60.0


@lru_cache
def get_service_settings() -> ServiceSettings:
    return ServiceSettings()
