"""Hub Santé: the centre's messages to and from other SAMUs and fire services (ADR 0011)."""
