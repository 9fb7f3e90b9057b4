"""Request and response shapes of the offers API. The terms themselves are
`shop_common.offers` (the orders function prices with the same models)."""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, StringConstraints

from shop_common.offers import (
    EXACT_NUMBER_TERMS,
    AmountOff,
    BuyXGetY,
    Flag,
    Limit,
    Moment,
    Money,
    Offer,
    Percent,
    PercentOff,
    PositiveMoney,
    Priority,
    ProductIds,
    Units,
)


class OfferChanges(BaseModel):
    """Any terms of the offer's kind; `null` removes an optional one (`ends_at`, a limit,
    `products` of a percent_off). The kind cannot change. The result is checked as a whole, as
    a new offer is."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["buy_x_get_y", "percent_off", "amount_off"] | None = None
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None
    starts_at: Moment | None = None
    ends_at: Moment | None = None
    priority: Priority | None = None
    stacks: Flag | None = None
    max_uses: Limit | None = None
    max_uses_per_customer: Limit | None = None
    buy_products: ProductIds | None = None
    buy_quantity: Units | None = None
    get_products: ProductIds | None = None
    get_quantity: Units | None = None
    get_percent: Percent | None = None
    max_applications: Limit | None = None
    percent: Percent | None = None
    products: ProductIds | None = None
    amount: PositiveMoney | None = None
    min_subtotal: Money | None = None

    def changes(self) -> dict[str, Any]:
        """The fields the request sent, in their JSON form."""
        return self.model_dump(mode="json", exclude_unset=True)


class _Stored(BaseModel):
    id: Annotated[int, Field(ge=1)]
    version: Annotated[int, Field(ge=1, description="Adds one with every edit")]
    times_used: Annotated[
        int | None, Field(ge=0, description="Orders that used it while it had a usage limit; null: it has none")
    ]


class StoredBuyXGetY(BuyXGetY, _Stored):
    pass


class StoredPercentOff(PercentOff, _Stored):
    pass


class StoredAmountOff(AmountOff, _Stored):
    pass


class OfferJson(RootModel[Annotated[StoredBuyXGetY | StoredPercentOff | StoredAmountOff, Field(discriminator="kind")]]):
    """An offer as the API shows it (for the OpenAPI document)."""


def offer_json(offer: Offer) -> dict[str, Any]:
    """An offer as the API shows it: its terms, id, version and usage count."""
    return {
        "id": offer.id,
        **offer.terms.model_dump(mode="json"),
        **offer.terms.model_dump(include=set(EXACT_NUMBER_TERMS)),  # Decimals: exact JSON numbers
        "version": offer.version,
        "times_used": offer.times_used if offer.limited else None,
    }
