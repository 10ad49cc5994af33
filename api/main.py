"""The FastAPI application: routers, error handlers, and the start-up sequence."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI
from sqlmodel import Session

from api.areas.routes import router as areas_router
from api.areas.service import area_settings, list_areas
from api.auth.models import Role
from api.auth.routes import router as keys_router
from api.auth.service import ensure_key
from api.auth.session_routes import router as session_router
from api.auth.throttle import SignInThrottle
from api.banks.routes import router as banks_router
from api.cash.routes import router as cash_router
from api.core.clock import Clock
from api.core.config import ServiceSettings, get_service_settings
from api.core.db import make_engine
from api.core.errors import install_error_handlers
from api.core.headers import SecurityHeaders
from api.core.limits import install_body_limit
from api.core.migrate import upgrade
from api.core.roads import WarmUp
from api.drivers.routes import router as driver_router
from api.exports.routes import router as exports_router
from api.fees.routes import router as fees_router
from api.fleet.routes import router as fleet_router
from api.handover.routes import router as handover_router
from api.health import router as health_router
from api.kpis.routes import router as kpis_router
from api.notifications.routes import router as notifications_router
from api.notifications.scheduler import Notifier
from api.orders.routes import router as orders_router
from api.pages.access import install_page_handlers
from api.pages.assets import mount_assets
from api.pages.board_routes import router as board_page_router
from api.pages.driver_routes import router as driver_page_router
from api.pages.routes import router as pages_router
from api.plans.edit_routes import router as plan_edits_router
from api.plans.map_routes import router as plan_map_router
from api.plans.routes import router as plans_router
from api.plans.runners import make_runner
from api.plans.scheduler import AutoPlanner
from api.repairs.routes import router as repairs_router
from api.reports.routes import router as reports_router
from api.slots.routes import router as slots_router
from api.tickets.routes import router as tickets_router


def create_app(settings: ServiceSettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or get_service_settings()
    clock = clock or Clock(settings.timezone)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        to_thread.current_default_thread_limiter().total_tokens = settings.request_threads
        engine = make_engine(settings.database_url)
        upgrade(engine)
        if settings.bootstrap_admin_key:
            with Session(engine) as session:
                ensure_key(
                    session=session,
                    name="bootstrap admin",
                    role=Role.ADMIN,
                    key=settings.bootstrap_admin_key,
                )
        app.state.engine = engine
        app.state.settings = settings
        with Session(engine) as session:
            areas = [area_settings(settings, area) for area in list_areas(session=session)]
        app.state.roads = WarmUp([settings, *areas])
        app.state.clock = clock
        runner = make_runner(engine, settings)
        scheduler = AutoPlanner(engine, settings, clock, runner)
        notifier = Notifier(engine, settings, clock)
        app.state.runner = runner
        app.state.scheduler = scheduler
        runner.start()
        if settings.run_scheduler:
            scheduler.start()
            notifier.start()
        yield
        notifier.stop()
        scheduler.stop()
        runner.stop()  # running solves stop and go back to the queue
        engine.dispose()

    app = FastAPI(
        title="dispatch",
        description="Delivery and technician route dispatch for home-furnishing stores.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.sign_in_throttle = SignInThrottle(settings)
    install_error_handlers(app)
    install_body_limit(app, max_bytes=settings.max_request_bytes)
    app.add_middleware(SecurityHeaders)
    install_page_handlers(app)
    mount_assets(app)
    for router in (
        health_router,
        session_router,
        pages_router,
        driver_page_router,
        board_page_router,
        driver_router,
        keys_router,
        areas_router,
        fleet_router,
        banks_router,
        plan_map_router,
        orders_router,
        slots_router,
        plans_router,
        plan_edits_router,
        exports_router,
        handover_router,
        cash_router,
        fees_router,
        reports_router,
        kpis_router,
        notifications_router,
        tickets_router,
        repairs_router,
    ):
        app.include_router(router)
    return app
