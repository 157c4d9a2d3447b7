"""The health-insurance billing of each act: codes, dated tariffs, the rules checked."""
