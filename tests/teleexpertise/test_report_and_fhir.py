"""The answer's report as a PDF on the timeline, and the request as FHIR ServiceRequest, Task,
Communication and DocumentReference, each behind the request's gate."""

import base64
import hashlib
from typing import Any

from fhir.resources.R4B.communication import Communication
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.task import Task
from httpx import AsyncClient

from tests.documents.files import photo_with_gps
from tests.fixtures.world import Person, World
from tests.prescriptions.test_pdf import pdf_text
from tests.teleexpertise.conftest import ANSWER, QUESTION, Team, create

REPLY = "Elle mesure 8 mm, bords irréguliers."


async def answered(client: AsyncClient, team: Team) -> tuple[dict[str, Any], dict[str, Any]]:
    """A request with a photo, one question and its reply in the thread, then the signed answer."""
    response = await create(client, team, [("dos-lesion-melanome.jpg", photo_with_gps(), "image/jpeg")])
    assert response.status_code == 201, response.text
    request = response.json()
    path = f"/api/expert-requests/{request['id']}"
    for person, body in ((team.expert, "Quelle taille fait la lésion ?"), (team.requester, REPLY)):
        sent = await client.post(f"{path}/messages", json={"body": body}, headers=person.headers)
        assert sent.status_code == 201, sent.text
    given = await client.post(f"{path}/answers", json=ANSWER, headers=team.expert.headers)
    assert given.status_code == 201, given.text
    return request, given.json()


def report_path(request: dict[str, Any], answer: dict[str, Any]) -> str:
    return f"/api/expert-requests/{request['id']}/answers/{answer['id']}/report.pdf"


async def test_the_report_pdf_holds_the_answer_and_is_the_same_each_time(
    client: AsyncClient, team: Team
) -> None:
    request, answer = await answered(client, team)
    response = await client.get(report_path(request, answer), headers=team.requester.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-") and response.content.rstrip().endswith(b"%%EOF")
    text = pdf_text(response.content)
    assert team.expert.professional is not None and team.requester.professional is not None
    for expected in (
        ANSWER["opinion"],
        ANSWER["management"],
        "À voir rapidement",
        QUESTION[:40],
        REPLY,
        f"RPPS {team.expert.professional.rpps}",
        f"RPPS {team.requester.professional.rpps}",
        "photo JPEG",
        answer["content_sha256"],
    ):
        assert expected in text, expected
    assert "dos-lesion-melanome" not in text  # file names can say what the patient has
    again = await client.get(report_path(request, answer), headers=team.patient.headers)
    assert again.status_code == 200 and again.content == response.content  # invariant: hash stays true


async def test_the_report_is_for_the_parties_and_the_care_team_only(
    client: AsyncClient, team: Team, world: World
) -> None:
    request, answer = await answered(client, team)
    path = report_path(request, answer)
    assert (await client.get(path, headers=team.expert.headers)).status_code == 200
    gp = await world.professional("Traitant")
    assert team.patient.patient is not None and gp.professional is not None
    related = await client.post(
        f"/api/patients/{team.patient.patient.id}/care-relations",
        headers=team.requester.headers,
        json={"professional_id": gp.professional.id, "reason": "gp_of_record"},
    )
    assert related.status_code == 201, related.text
    assert (await client.get(path, headers=gp.headers)).status_code == 200  # as its DocumentReference says
    assert (await client.get(path, headers=team.outsider.headers)).status_code == 404  # an expert not asked
    assert (await client.get(path, headers=team.pool[0].headers)).status_code == 404
    other = await create(client, team)
    wrong = f"/api/expert-requests/{other.json()['id']}/answers/{answer['id']}/report.pdf"
    assert (await client.get(wrong, headers=team.requester.headers)).status_code == 404


async def test_the_timeline_entry_links_to_the_answer(client: AsyncClient, team: Team) -> None:
    _, answer = await answered(client, team)
    assert team.patient.patient is not None
    timeline = await client.get(
        f"/api/patients/{team.patient.patient.id}/timeline", headers=team.patient.headers
    )
    assert timeline.status_code == 200, timeline.text
    filed = [e for e in timeline.json() if e["source_type"] == "ExpertAnswer"]
    assert [e["source_id"] for e in filed] == [answer["id"]]


def person_id(person: Person) -> str:
    assert person.professional is not None
    return person.professional.id


async def fhir(client: AsyncClient, person: Person, path: str) -> Any:
    response = await client.get(f"/fhir/R4/{path}", headers=person.headers)
    return response.status_code, response.json()


def ids(bundle: dict[str, Any]) -> list[str]:
    return [e["resource"]["id"] for e in bundle.get("entry", [])]


async def test_the_request_as_service_request_task_and_communications(
    client: AsyncClient, team: Team
) -> None:
    request, _ = await answered(client, team)
    assert team.patient.patient is not None
    patient = team.patient.patient.id
    status, resource = await fhir(client, team.expert, f"ServiceRequest/{request['id']}")
    assert status == 200, resource
    ServiceRequest.model_validate(resource)
    assert (resource["status"], resource["intent"], resource["priority"]) == ("completed", "order", "routine")
    assert resource["subject"]["reference"] == f"Patient/{patient}"
    assert resource["requester"]["reference"] == f"Practitioner/{person_id(team.requester)}"
    assert [p["reference"] for p in resource["performer"]] == [f"Practitioner/{person_id(team.expert)}"]
    assert resource["note"][0]["text"] == QUESTION
    assert resource["category"][0]["coding"][0]["code"] == "teleexpertise"
    assert resource["occurrenceDateTime"][:16] == request["due_at"][:16]
    [photo] = resource["supportingInfo"]
    assert request["attachments"][0]["sha256"] in photo["display"] and "dos-lesion" not in photo["display"]

    status, tasks = await fhir(client, team.requester, f"Task?focus=ServiceRequest/{request['id']}")
    assert status == 200, tasks
    [task] = [e["resource"] for e in tasks["entry"]]
    Task.model_validate(task)
    assert (task["status"], task["owner"]["reference"]) == (
        "completed",
        f"Practitioner/{person_id(team.expert)}",
    )
    assert task["focus"]["reference"] == f"ServiceRequest/{request['id']}"
    assert task["restriction"]["period"]["end"][:16] == request["due_at"][:16]
    status, read = await fhir(client, team.expert, f"Task/{task['id']}")
    assert (status, read) == (200, task)

    status, thread = await fhir(client, team.patient, f"Communication?patient=Patient/{patient}")
    assert status == 200, thread
    messages = [e["resource"] for e in thread["entry"]]
    assert [m["payload"][0]["contentString"] for m in messages] == ["Quelle taille fait la lésion ?", REPLY]
    for message in messages:
        Communication.model_validate(message)
        assert message["basedOn"] == [{"reference": f"ServiceRequest/{request['id']}"}]
    assert messages[0]["sender"]["reference"] == f"Practitioner/{person_id(team.expert)}"
    assert messages[0]["recipient"][0]["reference"] == f"Practitioner/{person_id(team.requester)}"
    status, one = await fhir(client, team.requester, f"Communication/{messages[1]['id']}")
    assert (status, one) == (200, messages[1])


async def test_task_states_follow_the_request_open_then_cancelled(client: AsyncClient, team: Team) -> None:
    response = await create(client, team, urgency="urgent")
    request = response.json()
    status, bundle = await fhir(client, team.expert, f"Task?based-on=ServiceRequest/{request['id']}")
    assert status == 200
    assert [e["resource"]["status"] for e in bundle["entry"]] == ["requested"]
    status, resource = await fhir(client, team.expert, f"ServiceRequest/{request['id']}")
    assert (resource["status"], resource["priority"]) == ("active", "urgent")
    cancelled = await client.post(
        f"/api/expert-requests/{request['id']}/cancel", headers=team.requester.headers
    )
    assert cancelled.status_code == 200, cancelled.text
    _, resource = await fhir(client, team.expert, f"ServiceRequest/{request['id']}")
    _, bundle = await fhir(client, team.expert, f"Task?focus=ServiceRequest/{request['id']}")
    assert (resource["status"], bundle["entry"][0]["resource"]["status"]) == ("revoked", "cancelled")


async def test_the_answer_report_as_document_reference(client: AsyncClient, team: Team) -> None:
    request, answer = await answered(client, team)
    assert team.patient.patient is not None
    status, resource = await fhir(client, team.expert, f"DocumentReference/{answer['id']}")
    assert status == 200, resource
    DocumentReference.model_validate(resource)
    attachment = resource["content"][0]["attachment"]
    assert attachment["url"].endswith(report_path(request, answer))
    pdf = (await client.get(report_path(request, answer), headers=team.expert.headers)).content
    assert attachment["size"] == len(pdf)
    assert attachment["hash"] == base64.b64encode(hashlib.sha1(pdf, usedforsecurity=False).digest()).decode()
    assert resource["context"]["related"] == [{"reference": f"ServiceRequest/{request['id']}"}]
    assert resource["author"] == [{"reference": f"Practitioner/{person_id(team.expert)}"}]
    status, bundle = await fhir(
        client, team.requester, f"DocumentReference?patient=Patient/{team.patient.patient.id}"
    )
    assert status == 200 and ids(bundle) == [answer["id"]]
    assert (await fhir(client, team.outsider, f"DocumentReference/{answer['id']}"))[0] == 404
    assert (await fhir(client, team.expert, "DocumentReference/inconnu"))[0] == 404


async def test_a_stranger_sees_nothing_an_expert_only_what_was_addressed_to_them(
    client: AsyncClient, team: Team
) -> None:
    mine, _ = await answered(client, team)
    other = (await create(client, team, expert_ids=[person_id(team.second)])).json()
    assert team.patient.patient is not None
    patient = f"Patient/{team.patient.patient.id}"
    for kind in ("ServiceRequest", "Task", "Communication"):
        status, bundle = await fhir(client, team.outsider, f"{kind}?patient={patient}")
        assert (status, ids(bundle)) == (200, []), kind
    assert (await fhir(client, team.outsider, f"ServiceRequest/{mine['id']}"))[0] == 404
    assert (await fhir(client, team.outsider, f"Task?focus=ServiceRequest/{mine['id']}"))[0] == 404
    _, seen = await fhir(client, team.expert, f"ServiceRequest?patient={patient}")
    assert ids(seen) == [mine["id"]]
    assert (await fhir(client, team.expert, f"ServiceRequest/{other['id']}"))[0] == 404
    _, everything = await fhir(client, team.requester, f"ServiceRequest?patient={patient}")
    assert ids(everything) == [mine["id"], other["id"]]  # who cares for the patient sees all
    _, own = await fhir(client, team.patient, f"ServiceRequest?patient={patient}")
    assert ids(own) == [mine["id"], other["id"]]
    assert (await fhir(client, team.outsider, f"DocumentReference?patient={patient}"))[0] == 404


async def test_the_capability_statement_declares_the_four_resources(client: AsyncClient) -> None:
    statement = (await client.get("/fhir/R4/metadata")).json()
    declared = {r["type"]: [p["name"] for p in r["searchParam"]] for r in statement["rest"][0]["resource"]}
    assert "patient" in declared["ServiceRequest"] and "focus" in declared["Task"]
    assert "based-on" in declared["Communication"] and "patient" in declared["DocumentReference"]
