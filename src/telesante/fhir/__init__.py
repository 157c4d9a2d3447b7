"""FHIR R4 façade (/fhir/R4), shaped by the French core profiles (fr-core).

It maps domain objects to FHIR and calls the domain services and access gate;
it never decides access itself. Resources are validated with fhir.resources
(R4B models: the library ships no plain R4, and R4B's Patient, Practitioner,
PractitionerRole, Organization, Bundle and OperationOutcome match R4's).
"""
