"""The room's pages (in progress)."""

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
