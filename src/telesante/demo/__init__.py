"""Realistic French demo data: organisations, professionals, patients, care relations."""
