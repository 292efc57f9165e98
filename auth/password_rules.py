"""The password rules Django ships as its default validators, with Django's messages.

Minimum length, similarity to the user's attributes, Django's list of common passwords (shipped as
data in auth/data), and not entirely numeric; plus a byte limit, so no unbounded input is hashed.
"""

import gzip
import re
from difflib import SequenceMatcher
from pathlib import Path
from typing import Mapping

MIN_LENGTH = 8
MAX_BYTES = 4096
MAX_SIMILARITY = 0.7
COMMON_PASSWORDS_FILE = Path(__file__).parent / "data" / "common-passwords.txt.gz"


def _load_common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines)


COMMON_PASSWORDS = _load_common_passwords()  # at import, i.e. at start, never on the IOLoop later


def _too_similar(password: str, value: str) -> bool:
    """Django's UserAttributeSimilarityValidator for one attribute: the value or any of its words
    is as alike as MAX_SIMILARITY to the password (a word far shorter than the password is skipped)."""
    password, value = password.lower(), value.lower()
    for part in re.split(r"\W+", value) + [value]:
        if len(password) >= 10 * len(part) and len(part) < MAX_SIMILARITY / 2 * len(password):
            continue
        if SequenceMatcher(a=password, b=part).quick_ratio() >= MAX_SIMILARITY:
            return True
    return False


def password_errors(password: str, attributes: Mapping[str, str]) -> list[str]:
    """Every rule the password breaks, as Django words it; `attributes` are the user's (name → value)."""
    if len(password.encode("utf-8")) > MAX_BYTES:
        return [f"Ensure this field has no more than {MAX_BYTES} bytes."]
    errors = []
    if len(password) < MIN_LENGTH:
        errors.append(f"This password is too short. It must contain at least {MIN_LENGTH} characters.")
    for name, value in attributes.items():
        if value and _too_similar(password, value):
            errors.append(f"The password is too similar to the {name}.")
            break
    if password.lower().strip() in COMMON_PASSWORDS:
        errors.append("This password is too common.")
    if password.isdigit():
        errors.append("This password is entirely numeric.")
    return errors
