"""An iCalendar (RFC 5545) invitation for an appointment. No health detail in it."""

from datetime import datetime

from telesante.teleconsultation.models import Appointment


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


def invitation(appointment: Appointment, link: str, now: datetime) -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Telesante//Teleconsultation//FR",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{appointment.id}@telesante",
        f"DTSTAMP:{_stamp(now)}",
        f"DTSTART:{_stamp(appointment.starts_at)}",
        f"DTEND:{_stamp(appointment.ends_at)}",
        "SUMMARY:Rendez-vous de téléconsultation",
        f"DESCRIPTION:Rejoignez la salle d'attente jusqu'à 10 minutes avant : {link}",
        f"URL:{link}",
        "STATUS:CANCELLED" if appointment.status == "cancelled" else "STATUS:CONFIRMED",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(lines) + "\r\n"
