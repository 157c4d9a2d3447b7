"""Durable jobs and timers in the database, run by the worker."""
