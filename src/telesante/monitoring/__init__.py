"""Télésurveillance: measures, alert rules and their defaults (pure: measures, rules, defaults,
rule_codec), and on the foundation the programs, devices, ingestion, alert engine, timers and their
FHIR, Nightscout and JSON APIs (ADR 0009)."""
