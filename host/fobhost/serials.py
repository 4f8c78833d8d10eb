"""Serial numbers as printed on the back of a fob: 8 to 12 ASCII digits.

Automatic numbers are ``prefix + zero-padded sequence + Luhn check digit``,
so a mistyped digit or a swap of neighbours is caught when one is read
back by a person; a number given by hand (`--serial`) must carry one too.
"""

MIN_LENGTH = 8
MAX_LENGTH = 12
AUTO_LENGTH = 10


def is_serial(text):
    """True for 8 to 12 ASCII digits."""
    return isinstance(text, str) and MIN_LENGTH <= len(text) <= MAX_LENGTH and text.isascii() and text.isdigit()


def luhn_digit(digits):
    """The Luhn check digit to append to ``digits``."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str(-total % 10)


def luhn_valid(number):
    return len(number) > 1 and luhn_digit(number[:-1]) == number[-1]


def check_given(text):
    """Raise ValueError unless ``text`` is a serial number a person may give: digits, Luhn check digit last."""
    if not is_serial(text):
        raise ValueError("must be 8 to 12 digits")
    if not luhn_valid(text):
        raise ValueError("%s has a wrong check digit (the last digit is a Luhn check digit)" % text)
    if not text.strip("0"):
        raise ValueError("cannot be all zeros")


def check_prefix(prefix):
    """Raise ValueError unless ``prefix`` leaves room for a sequence in an automatic number."""
    if not (prefix.isascii() and prefix.isdigit()) or not 1 <= len(prefix) <= AUTO_LENGTH - 4:
        raise ValueError("serial prefix must be 1 to %d digits" % (AUTO_LENGTH - 4))


def capacity(prefix):
    """How many automatic numbers ``prefix`` gives."""
    return 10 ** (AUTO_LENGTH - 1 - len(prefix)) - 1


def automatic(prefix, sequence):
    """The automatic serial number ``sequence`` (1 up to capacity(prefix)) under ``prefix``."""
    check_prefix(prefix)
    if not 1 <= sequence <= capacity(prefix):
        raise ValueError("serial prefix %s has no numbers left" % prefix)
    body = prefix + str(sequence).zfill(AUTO_LENGTH - 1 - len(prefix))
    return body + luhn_digit(body)
