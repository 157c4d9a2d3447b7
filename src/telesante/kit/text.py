import unicodedata


def fold(text: str) -> str:
    """Lower case without accents, for search keys ("Hélène" -> "helene")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower().strip()
