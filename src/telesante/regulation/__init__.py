"""Régulation médicale: a SAMU centre 15 / SAS room, connected to Hub Santé."""
