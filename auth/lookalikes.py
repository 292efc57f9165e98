"""Usernames that look alike (`аdmin` with a Cyrillic а and `admin`): a skeleton as Unicode TS #39 defines
one, so two names with the same skeleton are refused as one.

The confusable pairs come from Unicode's confusables.txt as the confusable-homoglyphs package ships it;
each set of characters that are confusable with one another maps to one member, its prototype.
"""

import json
import unicodedata
from importlib import resources

_MARKS = "\u200e\u200f"  # the data wraps right-to-left characters in direction marks


def _prototypes() -> dict[str, str]:
    pairs = json.loads(resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8"))
    parent: dict[str, str] = {}

    def root(char: str) -> str:
        while parent.get(char, char) != char:
            parent[char] = parent.get(parent[char], parent[char])
            char = parent[char]
        return char

    for char, homoglyphs in pairs.items():
        for homoglyph in homoglyphs:
            other = homoglyph["c"].strip(_MARKS)
            if len(char) == 1 and len(other) == 1:
                a, b = root(char), root(other)
                if a != b:  # the smaller code point (ASCII first) represents the set
                    parent[max(a, b)] = min(a, b)
    return {char: root(char) for char in parent}


PROTOTYPES = _prototypes()  # at import, i.e. at start


def skeleton(username: str) -> str:
    """TS #39's skeleton (NFD, each character to its prototype, NFD again), after NFKC and casefolded,
    so that case and compatibility forms do not tell names apart either."""
    decomposed = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", username))
    mapped = "".join(PROTOTYPES.get(char, char) for char in decomposed)
    return unicodedata.normalize("NFD", mapped).casefold()
