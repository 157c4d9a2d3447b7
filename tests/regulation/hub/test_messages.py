"""Every message the room builds validates against ANS's model (hubsante-model; RS-ERROR against the
published schema's model written here), envelopes round-trip, and bad contents are refused."""

import json
import re
from datetime import datetime
from typing import Any

import hubsante_model as ans  # type: ignore[import-untyped]
import pytest

from telesante.regulation.hub import envelope, messages
from telesante.regulation.hub.kinds import KINDS, ErrorWrapper, Failure, InvalidContent, kind_of, validate
from telesante.regulation.models import Bilan, Decision, MedicalNote, Resource
from tests.regulation.hub.conftest import AT, a_file

SENDER = "fr.health.samu069"
MODELS = {
    "RS-EDA": ans.CreateCaseHealthWrapper,
    "RC-EDA": ans.CreateCaseWrapper,
    "RS-SR": ans.ResourcesStatusWrapper,
    "RS-BPV": ans.InterventionReportWrapper,
    "RC-REF": ans.ReferenceWrapper,
    "RS-ERROR": ErrorWrapper,
}


NOTE = MedicalNote(
    id="n1", file_id="f", author_id="u", role="MEDECIN", text="Antécédent d'infarctus", created_at=AT
)
DECISIONS = [
    Decision(id="d1", file_id="f", author_id="u", kind="INTER", decided_at=AT, resource_type="TSU"),
    Decision(
        id="d2",
        file_id="f",
        author_id="u",
        kind="ORIENT",
        decided_at=AT,
        orientation="URGENCES",
        destination="HEGP",
        medical_transport=True,
    ),
]
RESOURCE = Resource(
    id="r1", centre_id="c", name="SMUR Lyon Nord", resource_type="SMUR", team_level="MED", available=False
)
VITALS = {
    "heart_rate": 112,
    "systolic": 142,
    "diastolic": 91,
    "spo2": 94,
    "respiratory_rate": 22,
    "temperature": 37.8,
    "glasgow": 15,
    "glucose_mg_dl": 180,
}
BILAN = Bilan(
    id="b1", mission_id="m", file_id="f", vitals=VITALS, observations="Douleur rétrosternale", created_at=AT
)

BUILT = [
    ("RS-EDA", "a full DRM", messages.create_case_health(a_file(), [NOTE], DECISIONS, sender=SENDER)),
    ("RS-EDA", "a bare DRM", messages.create_case_health(a_file(bare=True), [], [], sender=SENDER)),
    (
        "RS-EDA",
        "a coded motive",
        messages.create_case_health(a_file(motive="M03.03 Saignements"), [], [], sender=SENDER),
    ),
    (
        "RS-EDA",
        "an SAS call",
        messages.create_case_health(a_file(origin="SAS", perimeter="SNP"), [], [], sender=SENDER),
    ),
    ("RC-EDA", "a full DRM", messages.create_case(a_file())),
    ("RC-EDA", "a bare DRM", messages.create_case(a_file(bare=True))),
    ("RS-SR", "back at base", messages.resources_status(a_file(), RESOURCE, "RET-BASE", AT, sender=SENDER)),
    ("RS-BPV", "all vitals", messages.intervention_report(a_file(), BILAN, RESOURCE)),
    (
        "RS-BPV",
        "an unknown patient",
        messages.intervention_report(
            a_file(bare=True),
            Bilan(id="b2", mission_id="m", file_id="f", vitals={}, observations="RAS", created_at=AT),
            Resource(
                id="r2", centre_id="c", name="VSAV 12", resource_type="SIS", team_level=None, available=True
            ),
        ),
    ),
    ("RC-REF", "received", messages.reference("fr.health.samu038_1234")),
    (
        "RS-ERROR",
        "invalid",
        messages.error(Failure.INVALID_MESSAGE, "caseId manquant", "fr.health.samu038_1234"),
    ),
]


@pytest.mark.parametrize(("kind", "case", "body"), BUILT, ids=[f"{k}: {c}" for k, c, _ in BUILT])
def test_every_built_message_validates_against_its_model(kind: str, case: str, body: dict[str, Any]) -> None:
    MODELS[kind].model_validate(body)
    assert kind_of(body) is KINDS[kind]
    assert not re.search(r'\dZ"', json.dumps(body)), "datetimes carry an offset, never Z"


def test_a_shared_drm_carries_what_the_regulator_needs() -> None:
    case = messages.create_case_health(a_file(), [NOTE], DECISIONS, sender=SENDER)["createCaseHealth"]
    assert case["creation"] == "2026-11-23T09:05:00+01:00"  # Paris time with its offset
    assert case["qualification"]["details"] == {
        "status": "ACTIF",
        "attribution": "DRM.MRU",
        "priority": "P1",
        "careLevel": "R2",
    }
    assert case["initialAlert"]["caller"]["callerContact"]["detail"] == "+33612345678"
    assert case["patient"][0]["detail"] == {"age": "P67Y"}
    assert case["decision"][0]["resourceType"] == "TSU "  # hubsante-model 0.1.1's spelling
    assert case["medicalNote"][0]["freetext"] == "Antécédent d'infarctus"
    assert case["additionalInformation"]["customMap"][0]["value"] == "Douleur thoracique"


def test_fire_services_get_no_medical_content() -> None:
    text = json.dumps(messages.create_case(a_file()))
    for secret in ("Marie Durand", "Douleur", "infarctus", "06 12"):
        assert secret not in text


def test_a_received_drm_gives_back_the_file_it_was_built_from() -> None:
    file = a_file()
    case = messages.create_case_health(file, [NOTE], [], sender=SENDER)["createCaseHealth"]
    fields = messages.file_fields(case)
    same = [
        "case_id",
        "perimeter",
        "priority",
        "care_level",
        "motive",
        "whats_happen",
        "address",
        "city",
        "latitude",
        "longitude",
        "access_details",
        "caller_name",
        "caller_type",
        "caller_language",
        "patient_name",
        "patient_sex",
        "patient_age",
        "received_at",
    ]
    assert {name: fields[name] for name in same} == {name: getattr(file, name) for name in same}
    assert fields["caller_phone"] == "+33612345678"
    assert fields["communication_issue"] == "LANGUE"
    assert messages.shared_notes(case) == [("MEDECIN", "Antécédent d'infarctus")]


def test_the_envelope_round_trips() -> None:
    body = messages.reference("fr.health.samu038_1234")
    built = envelope.build(sender=SENDER, recipient="fr.health.samu038", kind="Ack", body=body, now=AT)
    parsed = envelope.parse(json.dumps(built).encode())
    assert parsed.distribution_id.startswith(f"{SENDER}_")
    assert (parsed.sender_id, parsed.recipient, parsed.kind, parsed.status) == (
        SENDER,
        "fr.health.samu038",
        "Ack",
        "Actual",
    )
    assert parsed.descriptor.language == "fr-FR" and parsed.descriptor.explicit_address.scheme == "hubex"
    assert datetime.fromisoformat(parsed.sent) == AT and parsed.sent.endswith("+01:00")
    assert datetime.fromisoformat(parsed.expires) > AT
    assert parsed.message["reference"] == body["reference"]
    assert parsed.message["messageId"] == parsed.distribution_id
    assert parsed.message["recipient"] == [{"name": "fr.health.samu038", "URI": "hubex:fr.health.samu038"}]


def _rs_eda(**changes: Any) -> dict[str, Any]:
    case = messages.create_case_health(a_file(), [NOTE], DECISIONS, sender=SENDER)["createCaseHealth"]
    return {"createCaseHealth": case | changes}


INVALID = [
    ("RS-EDA", "a caseId without its origin", _rs_eda(caseId="DRM2026112300001")),
    ("RS-EDA", "a UTC time written Z", _rs_eda(creation="2026-11-23T08:05:00Z")),
    ("RS-EDA", "an unknown priority", _rs_eda(qualification={"details": {"priority": "P9"}})),
    (
        "RS-EDA",
        "no owner",
        {"createCaseHealth": {k: v for k, v in _rs_eda()["createCaseHealth"].items() if k != "owner"}},
    ),
    (
        "RS-EDA",
        "an age in words",
        _rs_eda(patient=[{"patientId": "fr.health.samu069.patient.X.1", "detail": {"age": "67 ans"}}]),
    ),
    (
        "RS-SR",
        "an unknown status",
        {
            "resourcesStatus": {
                "caseId": "fr.health.samu069.DRM1",
                "resourceId": "fr.health.samu069.resource.r1",
                "state": {"datetime": "2026-11-23T09:05:00+01:00", "status": "PARTI"},
            }
        },
    ),
    ("RC-REF", "no referenced message", {"reference": {"step": "RECU"}}),
    (
        "RS-ERROR",
        "a field the schema does not know",
        {
            "error": {
                "errorCode": {"statusCode": 300, "statusString": "INVALID_MESSAGE"},
                "errorCause": "x",
                "referencedDistributionID": "y",
                "severity": "high",
            }
        },
    ),
]


@pytest.mark.parametrize(("kind", "case", "body"), INVALID, ids=[f"{k}: {c}" for k, c, _ in INVALID])
def test_invalid_contents_are_refused(kind: str, case: str, body: dict[str, Any]) -> None:
    with pytest.raises(InvalidContent, match=kind):
        validate(KINDS[kind], body)


MALFORMED = [
    ("not JSON", b"{distributionID:"),
    ("not UTF-8", b"\xff\xfe"),
    ("no distribution id", json.dumps({"senderID": SENDER}).encode()),
    (
        "a Z time",
        json.dumps(
            envelope.build(sender=SENDER, recipient="fr.health.samu038", kind="Ack", body={}, now=AT)
            | {"dateTimeSent": "2026-11-23T08:05:00Z"}
        ).encode(),
    ),
    (
        "no content",
        json.dumps(
            envelope.build(sender=SENDER, recipient="fr.health.samu038", kind="Ack", body={}, now=AT)
            | {"content": []}
        ).encode(),
    ),
]


@pytest.mark.parametrize(("case", "raw"), MALFORMED, ids=[case for case, _ in MALFORMED])
def test_malformed_envelopes_are_refused(case: str, raw: bytes) -> None:
    with pytest.raises(envelope.Malformed):
        envelope.parse(raw)


def test_a_message_with_no_known_root_has_no_kind() -> None:
    assert kind_of({"messageId": "x", "customContent": {}}) is None
    assert kind_of({"reference": {}, "error": {}}) is None
