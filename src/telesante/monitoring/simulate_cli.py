"""`telesante simulate devices`: simulated patients whose devices send their readings to a running
Telesante, over HTTP FHIR Bundles or MQTT, for demos and benchmarks.

The patients, their programs and devices are written in the local database (TELESANTE_DATABASE_URL)
through the services, as the demo's GP, the first time; later runs find them again and give their
devices new tokens. The streams come from simulation.py (deterministic for a seed, anomalies
included). With `--rate`, the period simulated ends now and its readings go out at that many per
second; without it, the period starts now and readings leave when their time comes (a live demo).

`send(items, devices, sender)` is the seam: any iterator of timed samples, any sender.
"""

import asyncio
import json
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

import click
import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.auth.actor import Actor
from telesante.auth.models import User
from telesante.consent import service as consent
from telesante.db import transaction, utcnow
from telesante.demo import data
from telesante.identifiers.builders import make_nir
from telesante.identifiers.systems import INS_NIR_DEMO
from telesante.monitoring import devices as device_service
from telesante.monitoring import simulation
from telesante.monitoring.defaults import Indication
from telesante.monitoring.measures import BLOOD_PRESSURE, MeasureKind
from telesante.monitoring.models import Program
from telesante.monitoring.mqtt import MqttConfig
from telesante.patients import service as patients
from telesante.patients.models import Patient
from telesante.patients.schemas import Ins, PatientCreate
from telesante.runtime import Runtime
from telesante.settings import get_settings

K = MeasureKind
DEVICE_OF = {
    K.GLUCOSE_CGM: "cgm",
    K.WEIGHT: "scale",
    K.SYSTOLIC: "bp_monitor",
    K.DIASTOLIC: "bp_monitor",
    K.SPO2: "oximeter",
    K.HEART_RATE: "oximeter",
}
INDICATION_OF = {
    "cgm": Indication.DIABETES,
    "scale": Indication.HEART_FAILURE,
    "bp_monitor": Indication.HYPERTENSION,
    "oximeter": Indication.CHRONIC_RESPIRATORY_FAILURE,
}
DEMO_DOCTOR = "claire.martin@demo.telesante.fr"  # demo/load.py's GP
CONSENT = "Télésurveillance simulée : appareils de démonstration, données fictives."
FHIR_JSON = "application/fhir+json"


@dataclass(frozen=True)
class SimDevice:
    id: str
    token: str


@dataclass
class Sample:
    """What one device sends at one instant: one value, or those measured together (BP, SpO2 + pulse)."""

    patient: str
    device: str  # DEVICE_OF
    at: datetime  # in the device clock's offset
    values: list[tuple[MeasureKind, Decimal, str]] = field(default_factory=list)


def samples(items: Iterable[tuple[float, simulation.Reading]]) -> Iterator[tuple[float, Sample]]:
    """Readings of one device at one instant, gathered (the stream is in time order)."""
    pending: dict[tuple[str, str, datetime], tuple[float, Sample]] = {}
    for due, reading in items:
        for key in [k for k in pending if k[2] < reading.effective_at]:
            yield pending.pop(key)
        device = DEVICE_OF[reading.kind]
        key = (reading.patient, device, reading.effective_at)
        _, sample = pending.setdefault(key, (due, Sample(reading.patient, device, reading.device_time())))
        sample.values.append((reading.kind, reading.value, reading.unit))
    yield from pending.values()


def observations(sample: Sample) -> list[dict[str, Any]]:
    kinds = {kind for kind, _, _ in sample.values}
    if set(BLOOD_PRESSURE.components) <= kinds:
        components = [{"code": _code(k), "valueQuantity": _quantity(v, u)} for k, v, u in sample.values]
        return [_observation(BLOOD_PRESSURE.loinc, sample.at, component=components)]
    return [
        _observation(k.spec.loinc[0], sample.at, valueQuantity=_quantity(v, u)) for k, v, u in sample.values
    ]


def _observation(loinc: str, at: datetime, **value: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
        "effectiveDateTime": at.isoformat(),
        **value,
    }


def _code(kind: MeasureKind) -> dict[str, Any]:
    return {"coding": [{"system": "http://loinc.org", "code": kind.spec.loinc[0]}]}


def _quantity(value: Decimal, unit: str) -> dict[str, Any]:
    return {"value": float(value), "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}


def mqtt_payload(token: str, sample: Sample) -> bytes:
    at = sample.at.isoformat()
    readings: list[dict[str, Any]]
    if {kind for kind, _, _ in sample.values} >= set(BLOOD_PRESSURE.components):
        parts = [{"kind": k.value, "value": float(v), "unit": u} for k, v, u in sample.values]
        readings = [{"code": BLOOD_PRESSURE.loinc, "at": at, "components": parts}]
    else:
        readings = [{"kind": k.value, "value": float(v), "unit": u, "at": at} for k, v, u in sample.values]
    return json.dumps({"token": token, "readings": readings}).encode()


@dataclass(frozen=True)
class Report:
    outcomes: Counter[str]  # per-entry answers (HTTP) or acknowledged publications (MQTT)
    seconds: float  # from the first send to the last answer


class Sender(Protocol):
    async def send(self, device: SimDevice, batch: list[Sample]) -> Counter[str]: ...


class HttpSender:
    """One FHIR batch Bundle per device and flush; counts the per-entry answers."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def send(self, device: SimDevice, batch: list[Sample]) -> Counter[str]:
        entries = [
            {"resource": o, "request": {"method": "POST", "url": "Observation"}}
            for sample in batch
            for o in observations(sample)
        ]
        response = await self.http.post(
            "/fhir/R4",
            json={"resourceType": "Bundle", "type": "batch", "entry": entries},
            headers={"Authorization": f"Bearer {device.token}", "Content-Type": FHIR_JSON},
        )
        if response.status_code != 200:
            return Counter({f"http {response.status_code}": len(entries)})
        return Counter(entry["response"]["status"] for entry in response.json()["entry"])


class MqttSender:
    """One QoS 1 message per sample; counts those the broker acknowledged."""

    def __init__(self, client: Any, config: MqttConfig) -> None:
        self.client, self.config = client, config

    async def send(self, device: SimDevice, batch: list[Sample]) -> Counter[str]:
        topic = self.config.measurements_topic(device.id)
        await asyncio.gather(
            *(self.client.publish(topic, mqtt_payload(device.token, s), qos=1) for s in batch)
        )
        return Counter({"published (PUBACK)": len(batch)})


async def send(
    items: Iterable[tuple[float, Sample]],
    devices: dict[tuple[str, str], SimDevice],
    sender: Sender,
    *,
    flush_every: float = 0.05,
    concurrency: int = 8,
) -> Report:
    """Send each sample when due (seconds after the start), gathered per device every `flush_every`."""
    tally: Counter[str] = Counter()
    slots = asyncio.Semaphore(concurrency)
    running: set[asyncio.Task[None]] = set()
    pending: dict[SimDevice, list[Sample]] = {}

    async def deliver(device: SimDevice, batch: list[Sample]) -> None:
        async with slots:
            tally.update(await sender.send(device, batch))

    async def flush() -> None:
        for device, batch in pending.items():
            await slots.acquire()  # back-pressure: never more than `concurrency` sends in flight
            slots.release()
            task = asyncio.create_task(deliver(device, batch))
            running.add(task)
            task.add_done_callback(running.discard)
        pending.clear()

    started = last_flush = time.monotonic()
    for due, sample in items:
        if (wait := started + due - time.monotonic()) > 0:
            await flush()
            await asyncio.sleep(wait)
        pending.setdefault(devices[(sample.patient, sample.device)], []).append(sample)
        if time.monotonic() - last_flush >= flush_every:
            await flush()
            last_flush = time.monotonic()
    await flush()
    await asyncio.gather(*running)
    return Report(tally, time.monotonic() - started)


async def enrol(
    runtime: Runtime, cohort: list[simulation.SimulatedPatient], starts_at: datetime, doctor: str
) -> dict[tuple[str, str], SimDevice]:
    """Each simulated patient, enrolled once per indication, with a fresh token per device."""
    found: dict[tuple[str, str], SimDevice] = {}
    async with transaction(runtime.sessionmaker) as db:
        actor = await _doctor(db, doctor)
        for index, simulated in enumerate(cohort):
            patient = await _patient(db, actor, index)
            for device in sorted({DEVICE_OF[k] for k in simulated.devices()}):
                program = await _program(db, actor, patient, INDICATION_OF[device], starts_at)
                registration = device_service.Registration(device, "Simulateur Telesante", f"SIM-{index:04d}")
                registered, token = await device_service.register(db, actor, program, registration)
                found[(simulated.id, device)] = SimDevice(registered.id, token)
    return found


async def _doctor(db: AsyncSession, email: str) -> Actor:
    user = await db.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.is_active or user.professional_id is None:
        raise click.ClickException(f"no active professional account {email!r} (run `telesante demo` first?)")
    return Actor(user=user, mfa_passed=True, via="system")


async def _patient(db: AsyncSession, actor: Actor, index: int) -> Patient:
    """A fictitious patient with a demo INS derived from the index, so a later run finds it."""
    birth = date(1935, 1, 1) + timedelta(days=37 * (index % 800))  # 37 days: one patient a month
    sex = "F" if index % 2 else "M"
    nir = make_nir(sex, birth, "75", "056", order=700 + index // 800)
    existing = await db.scalar(select(Patient).where(Patient.ins_matricule == nir))
    if existing is not None:
        return existing
    patient = await patients.create_patient(
        db,
        actor,
        PatientCreate(
            ins=Ins(matricule=nir, oid=INS_NIR_DEMO),
            identity_status="VALI",
            birth_family_name="SIMULATION",
            birth_given_names=(data.GIVEN_F if sex == "F" else data.GIVEN_M)[index % 10],
            sex=sex,
            birth_date=birth,
            gp_of_record_id=actor.professional_id,
        ),
        allow_test_identities=True,
    )
    await consent.record_consent(
        db,
        actor,
        patient,
        consent.ConsentCreate(act="telemonitoring", method="in_person", information=CONSENT),
    )
    return patient


async def _program(
    db: AsyncSession, actor: Actor, patient: Patient, indication: Indication, starts_at: datetime
) -> Program:
    live = await db.scalar(
        select(Program).where(
            Program.patient_id == patient.id,
            Program.indication == indication.value,
            Program.status == "active",
        )
    )
    if live is not None:
        return live
    from telesante.jobs import handlers as _handlers  # noqa: F401 - modules in the order serve/worker load them
    from telesante.monitoring import programs

    team = [actor.professional_id] if actor.professional_id else []
    enrolment = programs.Enrolment(patient.id, indication, team, starts_at, timedelta(days=90), 30)
    return await programs.enrol(db, actor, enrolment)


async def simulate_devices(
    count: int, rate: float | None, days: float, seed: str, via_mqtt: bool, url: str | None, doctor: str
) -> Report:
    settings = get_settings()
    now = utcnow()
    start, end = (now - timedelta(days=days), now) if rate else (now, now + timedelta(days=days))
    cohort = simulation.cohort(count, seed)
    runtime = Runtime.create(settings)
    try:
        devices = await enrol(runtime, cohort, start, doctor)
    finally:
        await runtime.close()
    items = samples(simulation.paced(simulation.stream(cohort, start, end), rate=rate, start=start))
    if via_mqtt:
        config = MqttConfig.from_url(url or settings.mqtt_url or "mqtt://127.0.0.1:1883")
        import aiomqtt

        async with aiomqtt.Client(config.host, config.port, max_inflight_messages=200) as client:
            client.pending_calls_threshold = 10_000  # many publications in flight is the point here
            return await send(items, devices, MqttSender(client, config))
    async with httpx.AsyncClient(base_url=url or settings.base_url, timeout=120) as http:
        return await send(items, devices, HttpSender(http))


@click.group()
def simulate() -> None:
    """Simulated patients and devices."""


@simulate.command("devices")
@click.option("--patients", "count", type=click.IntRange(1, 10_000), default=10, show_default=True)
@click.option(
    "--rate", type=click.FloatRange(min=0, min_open=True), help="Readings per second (default: real time)"
)
@click.option("--days", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True)
@click.option("--mqtt", "via_mqtt", is_flag=True, help="Publish over MQTT instead of HTTP FHIR Bundles")
@click.option("--url", help="Server base URL (HTTP) or broker mqtt:// URL (default from the settings)")
@click.option("--seed", default="0", show_default=True)
@click.option("--doctor", default=DEMO_DOCTOR, show_default=True, help="E-mail of the prescribing doctor")
def simulate_devices_command(
    count: int, rate: float | None, days: float, via_mqtt: bool, url: str | None, seed: str, doctor: str
) -> None:
    """Enrol simulated patients, register their devices, then send their readings."""
    report = asyncio.run(simulate_devices(count, rate, days, seed, via_mqtt, url, doctor))
    for outcome, number in sorted(report.outcomes.items()):
        click.echo(f"{outcome}: {number}")
    total = sum(report.outcomes.values())
    click.echo(f"{total} sent in {report.seconds:.1f} s ({total / max(report.seconds, 1e-3):.0f}/s)")
