"""Who did what to which patient's data, and when."""
