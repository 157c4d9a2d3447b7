"""Telesante: the five acts of French telemedicine on one patient record."""

__version__ = "0.1.0"
