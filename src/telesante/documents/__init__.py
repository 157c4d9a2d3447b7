"""Documents and photos in a patient's record, encrypted at rest."""
