"""Téléexpertise: a professional asks medical experts for an opinion on a patient (issue 7)."""
