"""What the public reads show of a product, read straight off its stored item (`ProductView`),
is exactly what `Product.to_json` shows of the same item, for any product and photos."""

from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shop_common.catalog import product_from_item, product_item, view_from_item
from shop_common.dynamo import to_attributes
from shop_common.models import Product

images = st.lists(
    st.fixed_dictionaries(
        {
            "id": st.text("0123456789abcdef", min_size=16, max_size=16),
            "key": st.text("abcdefghijklmnopqrstuvwxyz0123456789/", min_size=1, max_size=40),
            "width": st.integers(1, 10_000),
            "height": st.integers(1, 10_000),
        },
        optional={"alt": st.text(max_size=40)},  # photos may be stored without one
    ),
    max_size=3,
)
products = st.builds(
    Product,
    id=st.integers(1, 10**12 - 1),
    name=st.text(min_size=1, max_size=30).filter(str.strip),
    description=st.text(max_size=50),
    price=st.decimals(min_value=0, max_value=Decimal("9999999999.99"), places=2, allow_nan=False, allow_infinity=False),
    quantity=st.integers(0, 10**9),
    sku=st.one_of(st.none(), st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,20}", fullmatch=True)),
)


@settings(max_examples=300, deadline=None)
@given(product=products, photos=images, without_description=st.booleans())
def test_the_public_view_of_a_stored_product_is_its_json(
    product: Product, photos: list[dict[str, Any]], without_description: bool
) -> None:
    item = product_item(product)
    if photos:
        item |= to_attributes({"images": photos})
    if without_description:  # products written before descriptions existed
        del item["description"]
    view = view_from_item(item)
    assert view.id == product.id
    assert view.to_json() == product_from_item(item).to_json()
