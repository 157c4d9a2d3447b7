"""Prometheus metrics of the room, observed as the events happen (supervision.py has the figures
computed from the database)."""

from prometheus_client import Counter, Histogram

from telesante.regulation.models import RegulationCall, RegulationFile

WAIT_BUCKETS = (5, 10, 20, 30, 60, 120, 300, 600, 1200, 3600)
CALLS = Counter("telesante_regulation_calls_total", "Calls to the centre", ["line"])
ANSWER_SECONDS = Histogram(
    "telesante_regulation_answer_seconds", "Time from ringing to answer", buckets=WAIT_BUCKETS
)
ABANDONED = Counter("telesante_regulation_abandoned_calls_total", "Calls ended before anyone answered")
REGULATION_SECONDS = Histogram(
    "telesante_regulation_time_to_regulation_seconds",
    "Time from the call to a regulator taking the file, per ARM priority",
    ["priority"],
    buckets=WAIT_BUCKETS,
)
FILES = Counter("telesante_regulation_files_total", "Regulation files opened", ["priority", "perimeter"])


def call_received(call: RegulationCall) -> None:
    CALLS.labels(call.line).inc()


def call_answered(call: RegulationCall) -> None:
    if call.answered_at:
        ANSWER_SECONDS.observe((call.answered_at - call.received_at).total_seconds())


def call_abandoned() -> None:
    ABANDONED.inc()


def file_opened(file: RegulationFile) -> None:
    FILES.labels(file.priority, file.perimeter).inc()


def file_taken(file: RegulationFile) -> None:
    if file.regulation_started_at:
        waited = (file.regulation_started_at - file.received_at).total_seconds()
        REGULATION_SECONDS.labels(file.priority).observe(waited)
