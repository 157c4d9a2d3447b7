from datetime import datetime

from pydantic import BaseModel


class DocumentOut(BaseModel):
    id: str
    patient_id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by_user_id: str
    created_at: datetime
