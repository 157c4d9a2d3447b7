"""The téléconsultation as a call's act: the room is the appointment, live while it is in call;
incidents go to the appointment (for the compte rendu) and the end bills the act held."""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from telesante.billing.service import bill_teleconsultation
from telesante.errors import Conflict
from telesante.teleconsultation.lifecycle import Status, move
from telesante.teleconsultation.models import Appointment
from telesante.timeline.service import add_entry


@dataclass(frozen=True)
class ConsultationCall:
    appointment_id: str

    @property
    def key(self) -> str:
        return self.appointment_id  # as before calls had other acts: channel call:<appointment id>

    async def require_live(self, db: AsyncSession) -> None:
        require_live(await db.get(Appointment, self.appointment_id))

    async def add_incident(self, db: AsyncSession, entry: dict[str, str]) -> None:
        appointment = await self._locked(db)
        appointment.incidents = [*(appointment.incidents or []), entry]  # JSON columns track assignment

    async def end(self, db: AsyncSession, transcript: list[dict[str, str]], by: str) -> None:
        await end_call(db, await self._locked(db), transcript, by)

    async def _locked(self, db: AsyncSession) -> Appointment:
        appointment = await db.get(Appointment, self.appointment_id, with_for_update=True)
        if appointment is None or appointment.status != Status.in_call:
            raise Conflict("la téléconsultation n'est pas en cours")
        return appointment


def require_live(appointment: Appointment | None) -> None:
    if appointment is None or appointment.status != Status.in_call:
        raise Conflict("la téléconsultation n'est pas en cours (le professionnel doit d'abord vous admettre)")


async def end_call(
    db: AsyncSession, appointment: Appointment, transcript: list[dict[str, str]] | None = None, by: str = ""
) -> None:
    """The call is over for everyone: status done, and the chat goes to the patient's timeline."""
    move(appointment, Status.done)
    await bill_teleconsultation(db, appointment)  # one billing line per act held, with the rules checked
    if transcript:
        lines = "\n".join(f"[{m['at'][11:16]} UTC] {m['name']} : {m['text']}" for m in transcript)
        add_entry(
            db,
            appointment.patient_id,
            kind="teleconsultation_chat",
            title="Messages échangés pendant la téléconsultation",
            summary=lines,
            source_type="Appointment",
            source_id=appointment.id,
            author_professional_id=appointment.professional_id,
        )
    await db.flush()
