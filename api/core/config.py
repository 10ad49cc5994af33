"""The service's settings: the business constants plus where the service keeps its data.

One object, read from the environment (prefix DISPATCH_); the business part is the
optimizer's own DispatchSettings so the rules are defined in exactly one place.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

from optimizer.settings import DispatchSettings

# Keyed by ticket service type (api.tickets.models.TicketServiceType values).
TICKET_VISIT_SKILLS = {
    "install": "",
    "start_up": "repair",
    "repair": "repair",
    "maintenance": "repair",
}
TICKET_VISIT_MINUTES = {"install": 120, "start_up": 45, "repair": 60, "maintenance": 60}


class ServiceSettings(DispatchSettings):
    model_config = SettingsConfigDict(env_prefix="DISPATCH_", extra="ignore", populate_by_name=True)

    # DATABASE_URL is the name every deployment tool knows; DISPATCH_DATABASE_URL also works.
    database_url: str = Field(
        default="sqlite:///dispatch.db",
        validation_alias=AliasChoices("DISPATCH_DATABASE_URL", "DATABASE_URL", "database_url"),
    )
    # A key created at start-up with the admin role, so a fresh install can be used at all.
    bootstrap_admin_key: str = ""
    run_scheduler: bool = True  # start tomorrow's plan at planning_time every day
    # How often the scheduler looks at every area's clock: the planning starts at most this
    # long after an area's planning time.
    scheduler_tick_s: float = Field(default=30.0, gt=0, le=3600)
    # An address farther than this from every depot (straight line × road_detour_factor) is
    # served by no planning area, and its order is refused naming `area`.
    area_reach_km: float = Field(default=80.0, gt=0, le=2_000)
    worker_threads: int = 1
    # A running job's lease: every progress report renews it, and a job whose run has not
    # reported for this long is presumed dead and re-queued, by any runner of any process.
    job_lease_s: float = Field(default=120.0, gt=0, le=86_400)
    # Plan on a Ray cluster at this address (host:port of its head) instead of in child
    # processes of this service; "" keeps the embedded runner. Needs the `cluster` extra.
    ray_address: str = ""
    ray_task_cpus: float = Field(default=2, gt=0, le=64)  # cores each planning task asks for
    # Jobs this process has on the cluster at once; each is a thread that mostly waits.
    ray_max_jobs: int = Field(default=64, ge=1, le=1_000)
    # Trying the cluster's head answers within this long; an unreachable cluster keeps the
    # jobs queued and is tried again at the next poll.
    ray_connect_timeout_s: float = Field(default=3.0, gt=0, le=60)
    # Planning searches run at this lower priority (Unix nice, 0-19): they take every core
    # they can, and requests (bookings, slot offers, the crews' writes) must not wait on them.
    planning_niceness: int = Field(default=10, ge=0, le=19)
    # Threads serving requests at once. Python runs one of them at a time, so many threads
    # only share it thinner: a request holding the day's ledger lock then waits its turn
    # behind all the others, and every crew's write waits behind it.
    request_threads: int = Field(default=8, ge=1, le=200)
    default_plan_seconds: float = 60.0
    # Map background: a folium tile name, or a tile URL template with {z}/{x}/{y} (a store's
    # own tile server), or "none" for a blank background. Routes show on any of them.
    map_tiles: str = "OpenStreetMap"
    map_attribution: str = ""
    # Customer notifications: "log" writes them to the log, "webhook" POSTs them to the URL.
    notify_sender: str = "log"
    notify_webhook_url: str = ""
    # After-sales tickets' service-level clocks.
    ticket_answer_hours: float = 12  # answered within this long of opening
    ticket_contact_minutes: float = 15  # customer called this soon after a technician is set
    ticket_follow_up_days: int = 3  # follow-up call this many days after closing
    # A ticket's repair visit: the technician is expected this close to the agreed on-site
    # time, needs this skill ("": any technician) and stays this long, per service type.
    # Dicts are JSON in the environment, e.g. DISPATCH_TICKET_VISIT_MINUTES='{"repair": 90}';
    # a type left out keeps its default.
    ticket_visit_tolerance_minutes: int = Field(default=30, ge=0, le=240)
    ticket_visit_skills: dict[str, str] = Field(default_factory=lambda: dict(TICKET_VISIT_SKILLS))
    ticket_visit_minutes: dict[str, int] = Field(default_factory=lambda: dict(TICKET_VISIT_MINUTES))
    # Size limits, each answered with 413 naming it. A body past max_request_bytes is refused
    # before it is read; the default fits a sign-off with its signature and max_photos photos
    # of max_photo_bytes each (base64 adds a third). Images are decoded, never trusted by
    # their first bytes. Free text a record keeps unchecked (a correction's changes) is cut
    # at max_text_chars per value.
    max_request_bytes: int = Field(default=12_000_000, ge=1_000)
    max_photo_bytes: int = Field(default=2_000_000, gt=0)
    max_signature_bytes: int = Field(default=500_000, gt=0)
    max_photos: int = Field(default=4, ge=0)
    max_image_pixels: int = Field(default=24_000_000, gt=0)
    max_text_chars: int = Field(default=2_000, gt=0)
    # A page's sign-in lasts a working day and a bit: a phone signed in at 07:00 stays in
    # until the crew is back. The cookie is sent over HTTPS only (browsers treat
    # http://localhost and 127.0.0.1 as secure too); a store serving its pages over plain
    # HTTP on its own network turns that off with DISPATCH_SESSION_COOKIE_SECURE=false.
    session_hours: float = Field(default=16, gt=0, le=24 * 30)
    session_cookie_secure: bool = True
    # Failed sign-ins (a wrong key, by cookie sign-in or by bearer header) from one client:
    # the first sign_in_free_failures cost nothing, then each further one locks the client
    # out twice as long as the one before, from sign_in_backoff_seconds up to the maximum
    # (429 with Retry-After). A quiet maximum forgets the failures.
    sign_in_free_failures: int = Field(default=5, ge=1)
    sign_in_backoff_seconds: float = Field(default=1.0, gt=0)
    sign_in_max_backoff_seconds: float = Field(default=300.0, gt=0)


@lru_cache
def get_service_settings() -> ServiceSettings:
    return ServiceSettings()
