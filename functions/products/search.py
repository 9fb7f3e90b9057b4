"""Search by name (`search=`): every query word must be a prefix of a word of the product's
name, case, accents and punctuation folded (shop_common.search_words).

Candidates come from the word items of the query's longest word (the most selective): one
Query of at most SEARCH_WINDOW items. Each candidate's item carries all of the name's indexed
words and its price, so the other query words and a price range are checked without reading
the products. When the longest word finds nothing, its two-letter partition is read once (one
Query, at most 1 MB) for known words with a prefix within 1 typo (2 from 8 letters on), and
up to MAX_CORRECTIONS of them are queried instead. `in_stock` costs one BatchGetItem of the
matches' stock per 100 matches (at most SEARCH_WINDOW / 100 calls).

Ranking (without an explicit `ordering`): more query words equal to a word of the name first,
then names whose first word a query word matches, then by id.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from products.catalog_reads import stock_levels
from products.index_reads import WordHit, word_hits, words_of_partition
from products.query import ProductQuery
from shop_common.search_words import WORD_PREFIX, corrections, word_partition

SEARCH_WINDOW = 1_000  # word items a search reads (candidates); matches are counted within it
MAX_CORRECTIONS = 3
_BATCH_GET_LIMIT = 100


@dataclass(frozen=True)
class _Match:
    hit: WordHit
    exact_words: int
    on_first_word: bool


def _partition_of(word: str) -> str:
    return WORD_PREFIX + word if len(word) == 1 else word_partition(word)


def _candidates(word: str) -> tuple[list[WordHit], Callable[[str], bool]]:
    """The hits for the fetch word, and how a name's word matches it (a prefix, or a correction)."""
    hits, _ = word_hits(_partition_of(word), word, SEARCH_WINDOW)
    if hits or len(word) < 3:
        return hits, lambda name_word: name_word.startswith(word)
    fixes = corrections(word, words_of_partition(word_partition(word)), MAX_CORRECTIONS)
    for fix in fixes:
        more, _ = word_hits(word_partition(fix), f"{fix}#", SEARCH_WINDOW - len(hits))
        hits += more
    return hits, lambda name_word: name_word in fixes


def _match(hit: WordHit, query_words: Sequence[str], fetch_word: str, fetched: Callable[[str], bool]) -> _Match | None:
    exact = 0
    on_first = False
    for query_word in query_words:
        if query_word == fetch_word:
            matching = [name_word for name_word in hit.words if fetched(name_word)]
        else:
            matching = [name_word for name_word in hit.words if name_word.startswith(query_word)]
        if not matching:
            return None
        exact += query_word in matching
        on_first = on_first or hit.words[0] in matching
    return _Match(hit, exact, on_first)


def _in_stock(ids: list[int]) -> dict[int, int]:
    stock: dict[int, int] = {}
    for start in range(0, len(ids), _BATCH_GET_LIMIT):
        stock |= stock_levels(ids[start : start + _BATCH_GET_LIMIT])
    return stock


def search_ids(query: ProductQuery) -> list[int]:
    """The ids of the products matching the search and the filters, ranked."""
    fetch_word = max(query.search_words, key=len)  # the first of the longest
    hits, fetched = _candidates(fetch_word)
    unique = {hit.product_id: hit for hit in hits}
    matches = []
    for hit in unique.values():
        if query.min_cents is not None and hit.cents < query.min_cents:
            continue
        if query.max_cents is not None and hit.cents > query.max_cents:
            continue
        match = _match(hit, query.search_words, fetch_word, fetched)
        if match:
            matches.append(match)
    if query.in_stock is not None:
        stock = _in_stock(sorted(match.hit.product_id for match in matches))
        wanted = query.in_stock
        matches = [m for m in matches if m.hit.product_id in stock and (stock[m.hit.product_id] > 0) == wanted]
    if query.ordering == "id":
        matches.sort(key=lambda m: m.hit.product_id)
    elif query.ordering in ("price", "-price"):
        matches.sort(key=lambda m: (m.hit.cents, m.hit.product_id), reverse=query.ordering == "-price")
    else:
        matches.sort(key=lambda m: (-m.exact_words, not m.on_first_word, m.hit.product_id))
    return [match.hit.product_id for match in matches]
