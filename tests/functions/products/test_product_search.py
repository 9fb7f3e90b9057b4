"""Search: folding, word items kept with their product, typo tolerance, the window."""

from decimal import Decimal
from typing import Any

import pytest

from shop_common import settings as shop_settings
from shop_common.catalog import add_products, remove_product
from shop_common.catalog_writes import read_product, update_product
from shop_common.dynamo import client, to_attributes
from shop_common.models import NewProduct
from shop_common.search_words import MAX_INDEXED_WORDS, corrections, fold, folded_words, prefix_distance, word_keys
from shoplocal.gateway.invoke import LocalApi


def ids(api: LocalApi, query: str) -> list[int]:
    response = api.request("GET", "/api/products", query_string=query)
    assert response.status == 200, response.body
    return [product["id"] for product in response.json()["results"]]


def word_items() -> set[tuple[str, str]]:
    """Every word item in the table (a test may scan; requests never do)."""
    items = client().scan(TableName=shop_settings.table_name())["Items"]
    return {(item["PK"]["S"], item["SK"]["S"]) for item in items if item["PK"]["S"].startswith("WORD#")}


def test_folding_drops_accents_case_and_punctuation() -> None:
    assert fold("Crème BRÛLÉE") == "creme brulee"
    assert folded_words("Chocolatier's  box, 70% (dark)—Straße") == ["chocolatier", "s", "box", "70", "dark", "strasse"]
    assert folded_words("mug Mug MUG") == ["mug"]
    assert folded_words("!!! ...") == []


@pytest.mark.parametrize(
    ("word", "other", "distance"),
    [
        ("choc", "chocolate", 0),
        ("choclate", "chocolate", 1),
        ("chocolat", "chocolate", 0),
        ("cafe", "coffee", 2),
        ("mgu", "mug", 1),
    ],
)
def test_prefix_distance_is_the_distance_to_the_closest_prefix(word: str, other: str, distance: int) -> None:
    assert prefix_distance(word, other) == distance


def test_corrections_keep_the_first_two_letters_and_the_closest_three() -> None:
    known = ["chocolate", "chocolates", "chocolatier", "cheese", "hocolate", "chocolade"]
    assert corrections("choclate", known, 3) == ["chocolate", "chocolates", "chocolade"]  # 1, 1, then 2 (a-z)
    assert corrections("hcocolate", known, 3) == []  # a typo in the first two letters
    assert corrections("chee", known, 3) == ["cheese"]


def test_word_items_index_words_and_first_letters_up_to_twenty_words() -> None:
    assert word_keys("A big bag", 7) == [
        ("WORD#a", "a#000000000007"),
        ("WORD#b", "b#000000000007"),
        ("WORD#ba", "bag#000000000007"),
        ("WORD#bi", "big#000000000007"),
    ]
    long_name = " ".join(f"w{n:02d}" for n in range(30))
    assert len(word_keys(long_name, 1)) == MAX_INDEXED_WORDS + 1  # 20 words, one first letter


def test_word_items_follow_adds_edits_and_deletes() -> None:
    (mug,) = add_products([NewProduct(name="Blue mug", price=Decimal("2.50"), quantity=1)])
    assert word_items() == set(word_keys("Blue mug", mug.id))
    current = read_product(mug.id)
    assert current is not None
    update_product(current, current.model_copy(update={"name": "Red mug"}))
    assert word_items() == set(word_keys("Red mug", mug.id))
    current = read_product(mug.id)
    assert current is not None
    update_product(current, current.model_copy(update={"price": Decimal("3.10")}))
    cents = client().get_item(
        TableName=shop_settings.table_name(), Key=to_attributes({"PK": "WORD#mu", "SK": f"mug#{mug.id:012d}"})
    )["Item"]["cents"]
    assert cents == {"N": "310"}
    remove_product(mug.id)
    assert word_items() == set()


def test_bulk_adds_of_long_names_fit_their_transactions(dynamodb_calls: Any) -> None:
    names = [" ".join(f"{chr(97 + n % 26)}{n}x{k}" for k in range(25)) for n in range(12)]
    dynamodb_calls.clear()
    added = add_products([NewProduct(name=name, price=Decimal(1), quantity=1, sku=f"S-{n}") for n, name in enumerate(names)])
    transactions = [call for call in dynamodb_calls.calls if call.operation == "TransactWriteItems"]
    assert len(transactions) > 1
    assert all(len(call.params["TransactItems"]) <= 100 for call in transactions)
    assert len(word_items()) == sum(len(word_keys(product.name, product.id)) for product in added)


def test_one_letter_words_match_every_word_they_begin(api: LocalApi) -> None:
    add_products([NewProduct(name=name, price=Decimal(1), quantity=1) for name in ("Big mug", "A bag", "Cup")])
    assert ids(api, "search=b") == [1, 2]
    assert ids(api, "search=b+m") == [1]
    assert ids(api, "search=a") == [2]


def test_typos_are_corrected_in_the_longest_word_only_after_its_first_two_letters(api: LocalApi) -> None:
    add_products([NewProduct(name=name, price=Decimal(1), quantity=1) for name in ("Dark chocolate", "Milk chocolate")])
    assert ids(api, "search=dark+choclate") == [1]
    assert ids(api, "search=cohcolate") == []  # the first two letters are where the search looks
    assert ids(api, "search=drak+chocolate") == []  # not the longest word


def test_a_search_reads_at_most_its_window_of_word_items(
    api: LocalApi, monkeypatch: pytest.MonkeyPatch, dynamodb_calls: Any
) -> None:
    from products import search as products_search

    monkeypatch.setattr(products_search, "SEARCH_WINDOW", 5)
    add_products([NewProduct(name=f"Mug {n}", price=Decimal(1), quantity=1) for n in range(8)])
    dynamodb_calls.clear()
    page = api.request("GET", "/api/products", query_string="search=mug").json()
    assert (page["count"], [product["id"] for product in page["results"]]) == (5, [1, 2, 3, 4, 5])
    query, batch = dynamodb_calls.calls
    assert (query.operation, query.items_read, batch.operation) == (
        "Query",
        5 + 1,
        "BatchGetItem",
    )  # one more: were some left out?


def test_in_stock_with_a_search_reads_the_matches_stock(api: LocalApi, dynamodb_calls: Any) -> None:
    add_products([NewProduct(name=f"Mug {n}", price=Decimal(1), quantity=n % 2) for n in range(6)])
    dynamodb_calls.clear()
    assert ids(api, "search=mug&in_stock=true") == [2, 4, 6]
    assert dynamodb_calls.operations == ["Query", "BatchGetItem", "BatchGetItem"]
    assert ids(api, "search=mug&in_stock=false&ordering=-price") == [5, 3, 1]


def test_words_that_fold_long_are_cut_to_fit_a_key(api: LocalApi) -> None:
    name = "\u337f" * 190  # NFKD makes each 4 letters: one word of 760 letters, 2,280 bytes
    (product,) = add_products([NewProduct(name=name + " mug", price=Decimal(1), quantity=1)])
    assert [len(word) for word in folded_words(name)] == [64]
    assert ids(api, "search=" + "\u337f" * 60) == [product.id]
    assert ids(api, "search=mug") == [product.id]
