"""Patients, their INS identity, care relations and the access gate."""
