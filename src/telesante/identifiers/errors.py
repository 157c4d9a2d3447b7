class IdentifierError(ValueError):
    """An identifier that breaks its format or check key; the message says how."""
