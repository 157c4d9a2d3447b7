"""Téléconsultation: agenda, booking, waiting room, video call, compte rendu."""
