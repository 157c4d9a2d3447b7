"""Ordonnance numérique: signed e-prescriptions, verified and dispensed by pharmacists."""
