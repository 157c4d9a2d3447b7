def luhn_valid(digits: str) -> bool:
    """Luhn (mod 10) check over a string of digits, the key being the last digit."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def luhn_key(payload: str) -> str:
    """The digit that makes `payload + key` Luhn-valid (used to build test numbers)."""
    for key in "0123456789":
        if luhn_valid(payload + key):
            return key
    raise AssertionError("unreachable")
