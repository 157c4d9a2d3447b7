"""The patient's recorded consent to each act of telemedicine."""
