"""Pseudonymised research export: patients and their timeline, with no direct identifier.

Removed: names, INS matricule and OID, e-mail, phone, address, exact birth date, internal
ids (they link back to the database), timeline titles and summaries (free text that can
name the patient or a professional: titles embed professional names, summaries are
clinical prose we cannot prove clean) and the authors of entries.
Generalised: birth date -> year; birth place INSEE code -> département (2 characters,
3 for overseas 97x/98x; 2A/2B kept; 99 = born abroad); entry time -> its day.
Kept: sex, timeline entry kinds and dates.
Pseudonym: HMAC-SHA256(research key, patient id). The same key gives the same pseudonym
in every export, so studies can follow a patient over time; another key gives unlinkable
pseudonyms; without the key nobody can compute a pseudonym from a patient id.
Small cells (a rare kind in a small département) are not suppressed: that is left to the
study's own k-anonymity review.
"""

import hashlib
import hmac
import json
import os
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.audit.models import AuditEvent
from telesante.patients.models import Patient
from telesante.timeline.models import TimelineEntry

PARIS = ZoneInfo("Europe/Paris")
KEY_ENV = "TELESANTE_RESEARCH_KEY"
MIN_KEY_LENGTH = 32
DOMAIN = b"telesante-research-pseudonym-v1:"  # so this HMAC is never reused for another purpose
BATCH = 500


class ResearchKeyError(ValueError):
    """No research key, or one too short to resist guessing."""


def load_key(key_file: Path | None, environ: dict[str, str] | None = None) -> bytes:
    env = os.environ if environ is None else environ
    if key_file is not None:
        text = key_file.read_text(encoding="utf-8").strip()
        source = str(key_file)
    else:
        text = env.get(KEY_ENV, "").strip()
        source = KEY_ENV
    if not text:
        raise ResearchKeyError(f"a research key is required: set {KEY_ENV} or pass --key-file")
    if len(text) < MIN_KEY_LENGTH:
        raise ResearchKeyError(f"the research key in {source} must be at least {MIN_KEY_LENGTH} characters")
    return text.encode()


def pseudonym(key: bytes, patient_id: str) -> str:
    return hmac.new(key, DOMAIN + patient_id.encode(), hashlib.sha256).hexdigest()


def departement(insee_code: str | None) -> str | None:
    """The département of an INSEE commune code: 3 characters overseas (97x, 98x), else 2 (2A, 2B, 99)."""
    if not insee_code:
        return None
    code = insee_code.strip().upper()
    return code[:3] if code[:2] in ("97", "98") else code[:2]


def patient_record(key: bytes, patient: Patient, events: list[tuple[str, datetime]]) -> dict[str, Any]:
    return {
        "pseudonym": pseudonym(key, patient.id),
        "sex": patient.sex,
        "birth_year": patient.birth_date.year,
        "birth_departement": departement(patient.birth_place_code),
        "events": [
            {"kind": kind, "date": occurred.astimezone(PARIS).date().isoformat()} for kind, occurred in events
        ],
    }


async def _batches(db: AsyncSession) -> AsyncIterator[list[Patient]]:
    last_id = ""
    while True:
        batch = list(
            await db.scalars(select(Patient).where(Patient.id > last_id).order_by(Patient.id).limit(BATCH))
        )
        if not batch:
            return
        yield batch
        last_id = batch[-1].id


async def _events(db: AsyncSession, patient_ids: list[str]) -> dict[str, list[tuple[str, datetime]]]:
    # Only the columns needed: the encrypted summaries are never read, let alone decrypted.
    rows = await db.execute(
        select(TimelineEntry.patient_id, TimelineEntry.kind, TimelineEntry.occurred_at)
        .where(TimelineEntry.patient_id.in_(patient_ids))
        .order_by(TimelineEntry.occurred_at, TimelineEntry.id)
    )
    events: dict[str, list[tuple[str, datetime]]] = defaultdict(list)
    for patient_id, kind, occurred_at in rows:
        events[patient_id].append((kind, occurred_at))
    return events


async def write_export(db: AsyncSession, key: bytes, out: TextIO) -> int:
    """JSON Lines, one patient per line; returns how many patients. The caller commits the audit event."""
    count = 0
    async for batch in _batches(db):
        events = await _events(db, [p.id for p in batch])
        for patient in batch:
            line = patient_record(key, patient, events.get(patient.id, []))
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
            count += 1
    db.add(
        AuditEvent(
            actor_user_id=None,
            actor_role="system",
            patient_id=None,
            action="export",
            resource_type="ResearchExport",
            outcome="success",
            purpose="research",
            reason=f"{count} patients pseudonymised",
        )
    )
    await db.flush()
    return count
