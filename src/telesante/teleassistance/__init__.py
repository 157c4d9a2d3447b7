"""Téléassistance médicale: a doctor guides, through the camera, a professional performing an act."""
