"""The application factory and its lifespan."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from telesante import __version__
from telesante.auth.oidc_routes import router as oidc_api
from telesante.auth.routes import router as auth_api
from telesante.auth.session_routes import router as session_api
from telesante.auth.throttle import close_limiter
from telesante.auth.webauthn_routes import router as webauthn_api
from telesante.billing.pages import router as billing_pages
from telesante.billing.routes import router as billing_api
from telesante.consent.routes import router as consent_api
from telesante.directory.routes import router as directory_api
from telesante.documents.routes import router as documents_api
from telesante.errors import install_error_handlers
from telesante.fhir.routes import router as fhir_api
from telesante.gdpr.routes import router as gdpr_api
from telesante.jobs import handlers as _job_handlers  # noqa: F401 - registers every job handler
from telesante.jobs.worker import Worker
from telesante.monitoring.fhir_routes import router as monitoring_fhir
from telesante.monitoring.mqtt import consuming as consuming_mqtt
from telesante.monitoring.nightscout import router as nightscout_api
from telesante.monitoring.pages import router as monitoring_pages
from telesante.monitoring.patient_pages import router as monitoring_patient_pages
from telesante.monitoring.routes import router as monitoring_api
from telesante.notifications.routes import router as notifications_api
from telesante.ops.headers import SecurityHeaders
from telesante.ops.logging import configure_logging
from telesante.ops.middleware import RequestContext
from telesante.ops.routes import router as ops_routes
from telesante.patients.routes import break_glass_router
from telesante.patients.routes import router as patients_api
from telesante.prescriptions.pages import router as prescription_pages
from telesante.prescriptions.routes import fhir_router as prescriptions_fhir
from telesante.prescriptions.routes import pages_router as pharmacy_pages
from telesante.prescriptions.routes import router as prescriptions_api
from telesante.realtime.routes import router as realtime_routes
from telesante.regulation.hub.connector import connecting as connecting_hub
from telesante.regulation.hub.routes import router as regulation_hub_api
from telesante.regulation.pages import router as regulation_pages
from telesante.regulation.routes import router as regulation_api
from telesante.regulation.supervision import api as supervision_api
from telesante.regulation.supervision import router as supervision_pages
from telesante.regulation.video_routes import router as regulation_video
from telesante.runtime import Runtime
from telesante.settings import Settings, get_settings
from telesante.teleassistance.pages import router as teleassistance_pages
from telesante.teleassistance.routes import router as teleassistance_api
from telesante.teleassistance.video_routes import router as teleassistance_video
from telesante.teleconsultation.call.routes import router as call_routes
from telesante.teleconsultation.pages import router as teleconsultation_pages
from telesante.teleconsultation.report_pages import router as report_pages
from telesante.teleconsultation.routes import router as teleconsultation_api
from telesante.teleexpertise.fhir_routes import router as teleexpertise_fhir
from telesante.teleexpertise.pages import router as teleexpertise_pages
from telesante.teleexpertise.routes import router as teleexpertise_api
from telesante.web.auth_pages import router as auth_pages
from telesante.web.guard import LoginRequired
from telesante.web.pages import router as pages

STATIC = Path(__file__).parent / "web" / "static"


def create_app(settings: Settings | None = None, *, run_worker: bool | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging()
    with_worker = settings.run_worker_in_serve if run_worker is None else run_worker

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime.create(settings)
        app.state.runtime = runtime
        worker = Worker(runtime) if with_worker else None
        task = asyncio.create_task(worker.run_forever()) if worker else None
        try:
            # each only if configured: TELESANTE_MQTT_URL; TELESANTE_HUB_URL and TELESANTE_HUB_CLIENT_ID
            async with consuming_mqtt(runtime), connecting_hub(runtime):
                yield
        finally:
            if worker and task:
                worker.stop()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await close_limiter(app.state)
            await runtime.close()

    app = FastAPI(
        title="Telesante",
        version=__version__,
        summary="Les cinq actes de télémédecine sur un seul dossier patient.",
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
    )
    install_error_handlers(app)

    @app.exception_handler(LoginRequired)
    async def to_login(_: Request, exc: LoginRequired) -> RedirectResponse:
        return RedirectResponse(exc.location, status_code=303)

    routers = (
        ops_routes,
        auth_api,
        session_api,
        webauthn_api,
        oidc_api,
        directory_api,
        patients_api,
        break_glass_router,
        consent_api,
        teleconsultation_api,
        billing_api,
        billing_pages,
        documents_api,
        gdpr_api,
        notifications_api,
        fhir_api,
        realtime_routes,
        auth_pages,
        teleconsultation_pages,
        report_pages,
        call_routes,
        prescriptions_api,
        prescriptions_fhir,
        pharmacy_pages,
        prescription_pages,
        monitoring_api,
        monitoring_fhir,
        nightscout_api,
        monitoring_pages,
        monitoring_patient_pages,
        teleexpertise_api,
        teleexpertise_fhir,
        teleexpertise_pages,
        regulation_api,
        regulation_hub_api,
        regulation_pages,
        regulation_video,
        supervision_api,
        supervision_pages,
        teleassistance_api,
        teleassistance_video,
        teleassistance_pages,
        pages,
    )
    for router in routers:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(SecurityHeaders, always_hsts=settings.environment == "production")
    app.add_middleware(RequestContext)
    return app
