"""Enrolment (a doctor, with consent), the rules materialised per patient, audited adjustments, access."""

from httpx import AsyncClient
from sqlalchemy import select

from telesante.audit.models import AuditEvent
from telesante.runtime import Runtime
from tests.fixtures.world import World
from tests.monitoring.conftest import Followed, ago, alerts, consent, enrol, glucose, send


async def test_enrolment_needs_the_patients_consent(client: AsyncClient, world: World) -> None:
    doctor = await world.professional()
    patient = await world.patient(doctor)
    assert doctor.professional is not None
    refused = await enrol(client, doctor, patient.id, [doctor.professional.id])
    assert refused.status_code == 409, refused.text
    assert refused.json()["type"].endswith("/consent_missing")
    assert "télésurveillance" in refused.json()["detail"]
    await consent(client, doctor, patient.id)
    accepted = await enrol(client, doctor, patient.id, [doctor.professional.id])
    assert accepted.status_code == 201, accepted.text
    again = await enrol(client, doctor, patient.id, [doctor.professional.id])
    assert again.status_code == 409  # one live program per indication
    assert "déjà suivi" in again.json()["detail"]


async def test_only_a_doctor_enrols_and_the_team_has_a_doctor(client: AsyncClient, world: World) -> None:
    doctor = await world.professional()
    nurse = await world.professional("Petit", profession="nurse", specialty=None)
    patient = await world.patient(doctor)
    await consent(client, doctor, patient.id)
    assert doctor.professional is not None and nurse.professional is not None
    # The nurse gets access to the patient through the doctor's team, still cannot prescribe.
    by_nurse = await enrol(client, nurse, patient.id, [nurse.professional.id])
    assert by_nurse.status_code in (403, 404)
    nurses_only = await enrol(client, doctor, patient.id, [nurse.professional.id])
    assert nurses_only.status_code == 422
    assert "au moins un médecin" in nurses_only.json()["detail"]
    unknown = await enrol(client, doctor, patient.id, [doctor.professional.id, "nobody"])
    assert unknown.status_code == 422


async def test_the_indications_default_rules_are_materialised(
    client: AsyncClient, followed: Followed
) -> None:
    response = await client.get(
        f"/api/monitoring/programs/{followed.program_id}/rules", headers=followed.doctor.headers
    )
    assert response.status_code == 200, response.text
    rules = {r["code"]: r for r in response.json()}
    assert set(rules) == {"glucose.hypo", "glucose.hypo_severe", "glucose.hyper", "glucose.missing"}
    hypo = rules["glucose.hypo"]["definition"]
    assert hypo["any_of"][0]["limit"] == "70" and hypo["any_of"][0]["op"] == "<"
    assert "Battelino" in hypo["source"]
    assert all(r["status"] == "clear" for r in rules.values())


async def test_a_threshold_change_is_applied_and_audited_with_old_and_new_values(
    client: AsyncClient, followed: Followed, runtime: Runtime
) -> None:
    url = f"/api/monitoring/programs/{followed.program_id}/rules/glucose.hypo"
    changed = await client.patch(
        url, headers=followed.doctor.headers, json={"limit": "65", "reason": "patient âgé, cible assouplie"}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["definition"]["any_of"][0]["limit"] == "65"
    # 68 mg/dL no longer raises for this patient.
    await send(client, followed, glucose(68, ago(minutes=20)))
    assert await alerts(client, followed.doctor) == []
    await send(client, followed, glucose(64, ago(minutes=10)))
    assert [a["rule_code"] for a in await alerts(client, followed.doctor)] == ["glucose.hypo"]

    history = await client.get(
        f"/api/monitoring/programs/{followed.program_id}/rule-changes", headers=followed.doctor.headers
    )
    [change] = history.json()
    assert change["old"]["definition"]["any_of"][0]["limit"] == "70"
    assert change["new"]["definition"]["any_of"][0]["limit"] == "65"
    assert change["reason"] == "patient âgé, cible assouplie"
    assert change["changed_by_user_id"] == followed.doctor.user.id
    async with runtime.sessionmaker() as db:
        events = list(
            await db.scalars(
                select(AuditEvent).where(
                    AuditEvent.resource_type == "MonitoringRule", AuditEvent.resource_id == change["id"]
                )
            )
        )
    assert [(e.action, e.actor_user_id, e.outcome) for e in events] == [
        ("update", followed.doctor.user.id, "success")
    ]


async def test_an_impossible_threshold_is_refused(client: AsyncClient, followed: Followed) -> None:
    url = f"/api/monitoring/programs/{followed.program_id}/rules/glucose.hypo"
    response = await client.patch(url, headers=followed.doctor.headers, json={"limit": "5"})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "limit", "reason": "seuil 5 mg/dL hors des valeurs possibles pour glycémie (40–500 mg/dL)"}
    ]
    nurse_like = await client.patch(url, headers=followed.patient.headers, json={"limit": "60"})
    assert nurse_like.status_code == 403  # the patient sees the program, a doctor adjusts it


async def test_another_professional_sees_nothing(
    client: AsyncClient, world: World, followed: Followed
) -> None:
    await send(client, followed, glucose(50, ago(minutes=5)))
    alert, _ = await alerts(client, followed.doctor, status="open")  # severe and level-1 hypoglycaemia
    stranger = await world.professional("Inconnu")
    assert followed.patient.patient is not None
    for url in (
        f"/api/monitoring/programs/{followed.program_id}",
        f"/api/monitoring/programs/{followed.program_id}/rules",
        f"/api/monitoring/alerts/{alert['id']}",
        f"/api/monitoring/patients/{followed.patient.patient.id}/measurements",
    ):
        response = await client.get(url, headers=stranger.headers)
        assert response.status_code == 404, url
    assert await alerts(client, stranger) == []
    listed = await client.get("/api/monitoring/programs", headers=stranger.headers)
    assert listed.json() == []
    ack = await client.post(
        f"/api/monitoring/alerts/{alert['id']}/acknowledge", headers=stranger.headers, json={"comment": "vu"}
    )
    assert ack.status_code == 404
    # The team sees it; the second operator through the care relation the enrolment opened.
    assert [
        p["id"]
        for p in (await client.get("/api/monitoring/programs", headers=followed.second.headers)).json()
    ] == [followed.program_id]


async def test_reads_are_audited(client: AsyncClient, followed: Followed, runtime: Runtime) -> None:
    await client.get(f"/api/monitoring/programs/{followed.program_id}", headers=followed.doctor.headers)
    async with runtime.sessionmaker() as db:
        kinds = set(
            await db.scalars(
                select(AuditEvent.resource_type).where(AuditEvent.actor_user_id == followed.doctor.user.id)
            )
        )
    assert {"MonitoringProgram", "MonitoringDevice"} <= kinds


async def test_a_rule_switched_off_raises_nothing(client: AsyncClient, followed: Followed) -> None:
    url = f"/api/monitoring/programs/{followed.program_id}/rules/glucose.hypo"
    off = await client.patch(url, headers=followed.doctor.headers, json={"enabled": False})
    assert off.status_code == 200 and off.json()["enabled"] is False
    await send(client, followed, glucose(60, ago(minutes=5)))
    assert await alerts(client, followed.doctor) == []
    wrong = await client.patch(url, headers=followed.doctor.headers, json={"after_hours": 3})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "after_hours"


async def test_enrolment_schedules_the_months_report_and_forfait(
    followed: Followed, runtime: Runtime
) -> None:
    from telesante.jobs.models import Job
    from telesante.monitoring.monthly import MONTHLY_JOB

    async with runtime.sessionmaker() as db:
        due = list(
            await db.scalars(select(Job.due_at).where(Job.kind == MONTHLY_JOB, Job.status == "pending"))
        )
    assert len(due) == 1  # one close of the month, whatever the number of programs
