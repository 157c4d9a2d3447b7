"""FHIR identifier systems from fr-core (identifiers.md §2-3)."""

INS_NIR = "urn:oid:1.2.250.1.213.1.4.8"
INS_NIA = "urn:oid:1.2.250.1.213.1.4.9"
INS_NIR_TEST = "urn:oid:1.2.250.1.213.1.4.10"
INS_NIR_DEMO = "urn:oid:1.2.250.1.213.1.4.11"
INS_TYPE_SYSTEM = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"
INS_TYPE_CODES = {
    INS_NIR: "INS-NIR",
    INS_NIA: "INS-NIA",
    INS_NIR_TEST: "INS-NIR-TEST",
    INS_NIR_DEMO: "INS-NIR-DEMO",
}
TEST_OIDS = frozenset({INS_NIR_TEST, INS_NIR_DEMO})

RPPS = "https://rpps.esante.gouv.fr"
RPPS_LEGACY = "http://rpps.fr"
IDNPS = "urn:oid:1.2.250.1.71.4.2.1"
FINESS = "https://finess.esante.gouv.fr"
FINESS_LEGACY = "http://finess.sante.gouv.fr"
IDNST = "urn:oid:1.2.250.1.71.4.2.2"

IDENTITY_STATUS_SYSTEM = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-identity-status"
IDENTITY_RELIABILITY_EXT = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-identity-reliability"
PROFILE_PATIENT = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient"
PROFILE_PATIENT_INS = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-ins"
PROFILE_PRACTITIONER = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-practitioner"
PROFILE_PRACTITIONER_ROLE = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-practitioner-role"
PROFILE_ORGANIZATION = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-organization"
