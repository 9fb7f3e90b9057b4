"""Words of product names, folded for search, and the word items that index them.

Folding: NFKD, combining marks dropped, casefolded, so "Café", "CAFE" and "café" are one word;
anything that is not a letter or a digit separates words ("chocolate-orange" is two words). A
name is indexed by its first MAX_INDEXED_WORDS distinct folded words, each cut to MAX_WORD_LENGTH
characters (folding can expand a character to 18: the key must stay within DynamoDB's 1 KB).

Word items (base table; written in the product's own transaction, docs/data-model.md):
- word          PK=WORD#<first 2 characters of the word>  SK=<word>#<id, 12 digits>
- first letter  PK=WORD#<letter>                           SK=<letter>#<id, 12 digits>
each with `id`, `words` (the name's indexed words) and `cents` (the price). A query word of two
letters or more is found with `begins_with(SK, <word>)` in its two-letter partition; a query
word of one letter in its one-letter partition, which holds one item per product and distinct
first letter of its words (a one-letter word of a name is its own first letter).
"""

import unicodedata
from collections.abc import Iterable

MAX_INDEXED_WORDS = 20
MAX_WORD_LENGTH = 64
WORD_PREFIX = "WORD#"


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()
    # casefold can produce characters that decompose further ("ǰ"): normalise once more.
    again = unicodedata.normalize("NFKD", stripped)
    return "".join(char for char in again if not unicodedata.combining(char))


def folded_words(text: str) -> list[str]:
    """The distinct folded words of `text` (at most MAX_WORD_LENGTH characters each), in order of
    first appearance."""
    words: dict[str, None] = {}
    current: list[str] = []
    for char in fold(text) + " ":
        if char.isalnum():
            current.append(char)
        elif current:
            words.setdefault("".join(current)[:MAX_WORD_LENGTH])
            current = []
    return list(words)


def indexed_words(name: str) -> list[str]:
    return folded_words(name)[:MAX_INDEXED_WORDS]


def word_partition(word: str) -> str:
    return WORD_PREFIX + word[:2]


def word_keys(name: str, product_id: int) -> list[tuple[str, str]]:
    """(PK, SK) of every word item of a product with this name."""
    words = indexed_words(name)
    keys = {(word_partition(word), f"{word}#{product_id:012d}") for word in words if len(word) > 1}
    keys |= {(WORD_PREFIX + word[0], f"{word[0]}#{product_id:012d}") for word in words}
    return sorted(keys)


def prefix_distance(word: str, other: str) -> int:
    """The edit distance (Levenshtein) between `word` and the closest prefix of `other`."""
    previous = list(range(len(other) + 1))  # `word`[:0] against each prefix of `other`
    for i, char in enumerate(word, start=1):
        current = [i]
        for j, other_char in enumerate(other, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other_char)))
        previous = current
    return min(previous)


def tolerated_distance(word: str) -> int:
    """Typos accepted in a query word: 1, or 2 in a word of 8 letters or more."""
    return 2 if len(word) >= 8 else 1


def corrections(word: str, known: Iterable[str], wanted: int) -> list[str]:
    """Up to `wanted` known words with a prefix close enough to `word`, closest first (then in
    alphabetical order). Only words sharing its first two characters are considered: they are
    the ones read from its partition."""
    scored = []
    for candidate in set(known):
        if candidate[:2] == word[:2]:
            distance = prefix_distance(word, candidate)
            if distance <= tolerated_distance(word):
                scored.append((distance, candidate))
    return [candidate for _, candidate in sorted(scored)[:wanted]]
