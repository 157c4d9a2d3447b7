"""Import every module that registers a job handler, for the worker of any process."""

from telesante.auth import email_code
from telesante.notifications import service as notifications
from telesante.teleconsultation import booking

REGISTERED = (email_code, notifications, booking)
