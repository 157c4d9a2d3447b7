"""Import every module that registers a job handler, for the worker of any process."""

from telesante.auth import email_code
from telesante.monitoring import jobs as _monitoring_jobs  # noqa: F401 - registers the télésurveillance timers
from telesante.monitoring import monthly as _monitoring_monthly  # noqa: F401 - the monthly report and forfait
from telesante.notifications import service as notifications
from telesante.regulation import files as _regulation_files  # noqa: F401 - closing and escalation timers
from telesante.regulation import video as _regulation_video  # noqa: F401 - the caller's video link e-mails
from telesante.teleassistance import service as _teleassistance  # noqa: F401 - calls nobody answered
from telesante.teleconsultation import booking
from telesante.teleexpertise import timers as _teleexpertise_timers  # noqa: F401 - reminders and escalation

REGISTERED = (email_code, notifications, booking)
