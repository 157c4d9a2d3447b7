"""Télésurveillance: measures, alert rules and their default thresholds (pure rules, no I/O)."""
