"""The patient's GDPR export (art. 15 and 20) holds their télésurveillance: every measurement
as an Observation, every alert as a DetectedIssue citing the measurements that raised it."""

from fhir.resources.R4B.bundle import Bundle
from httpx import AsyncClient

from tests.monitoring.conftest import Followed, ago, glucose, send


async def test_measurements_and_alerts_are_in_the_patients_export(
    client: AsyncClient, followed: Followed
) -> None:
    sent = await send(client, followed, glucose(112, ago(minutes=40)), glucose(52, ago(minutes=10)))
    assert sent.status_code == 201, sent.text
    response = await client.get("/api/me/export.json", headers=followed.patient.headers)
    assert response.status_code == 200, response.text
    bundle = response.json()
    Bundle.model_validate(bundle)
    resources = [e["resource"] for e in bundle["entry"]]
    observations = [r for r in resources if r["resourceType"] == "Observation"]
    assert sorted(o["valueQuantity"]["value"] for o in observations) == [52, 112]
    issues = [r for r in resources if r["resourceType"] == "DetectedIssue"]
    assert issues, "the severe hypoglycaemia alert is exported"
    cited = {ref["reference"] for issue in issues for e in issue.get("evidence", []) for ref in e["detail"]}
    low = next(o for o in observations if o["valueQuantity"]["value"] == 52)
    assert f"Observation/{low['id']}" in cited
