"""Liveness, readiness, metrics, logs."""
