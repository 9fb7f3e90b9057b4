"""What importing the Django app's data will write: its records (`django_source`) as this shop's
accounts, products and orders, checked by the same models the API writes with, and what was
skipped, changed or rounded on the way, said in words.

Kept as they are: ids, usernames, names, emails, flags, `date_joined` and password hashes
(sign-in verifies Django's PBKDF2 hashes and upgrades them at the first sign-in); product names,
stock and descriptions (when the app had them); orders with their ids, owners, `created` and
parts (product id, quantity, `product_name`, in the order they were written).

Changed, and reported:
- prices are rounded half-to-even to whole cents (`price_in_cents`);
- an order part whose order is gone, and an order whose user is gone, are skipped: no one could
  see them in the Django app either;
- a part naming a product that is not in the data gets a null product, as Django's `SET_NULL`
  gives a part whose product was deleted; `product_name` still names it;
- Django does not make emails unique, this shop does (case-insensitively): the user with the
  lowest id keeps a shared email, the others are imported without one.
Refused (nothing is written): a product or user this shop cannot store (an empty name, a
negative price...), two usernames that are one after NFKC normalisation.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

from pydantic import ValidationError

from shopctl.django_source import DjangoData, DjangoOrderPart, DjangoUser
from shoplocal.template import put_layers_on_path

put_layers_on_path()
from shop_common.keys import normalize_username  # noqa: E402 - importable only after the line above
from shop_common.models import PRICE_QUANTUM, Product  # noqa: E402
from shop_common.new_accounts import NewAccount  # noqa: E402 - importable only after the line above
from shop_common.orders import Order, OrderPart  # noqa: E402
from shop_common.passwords import is_verifiable  # noqa: E402

MAX_USERNAME_LENGTH = 150  # Django's, and sign-in's
_LARGEST_PRODUCT_ID = 10**12 - 1  # the indexes sort product ids as 12 digits
_SHOWN = 5  # examples listed per kind of note


def price_in_cents(price: Decimal) -> Decimal:
    """A Django price (the float's shortest representation) in whole cents, rounded half to
    even: 0.30000000000000004 (0.1 + 0.2) -> 0.30, 2.675 -> 2.68, 2.665 -> 2.66, 9.999 -> 10.00."""
    cents = price.quantize(PRICE_QUANTUM, rounding=ROUND_HALF_EVEN)
    return cents if cents else Decimal("0.00")  # no "-0.00"


@dataclass
class ImportPlan:
    data: DjangoData
    fingerprint: str
    accounts: list[NewAccount] = field(default_factory=list)
    products: list[Product] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # problems that stop the import
    notes: list[str] = field(default_factory=list)  # what was skipped, changed or rounded

    @property
    def stock(self) -> int:
        return sum(product.quantity for product in self.products)

    @property
    def price_total(self) -> Decimal:
        return sum((product.price for product in self.products), Decimal("0.00"))

    @property
    def parts(self) -> int:
        return sum(len(order.parts) for order in self.orders)

    @property
    def units_ordered(self) -> int:
        return sum(part.quantity_in_order for order in self.orders for part in order.parts)

    @property
    def last_product_id(self) -> int:
        return max((product.id for product in self.products), default=0)

    @property
    def last_user_id(self) -> int:
        return max((account.user_id for account in self.accounts), default=0)

    def describe(self) -> str:
        return (
            f"{_counted(len(self.accounts), 'user')}, {_counted(len(self.products), 'product')} "
            f"(stock {self.stock:,}), {_counted(len(self.orders), 'order')} of {_counted(self.parts, 'part')}"
        )


def _counted(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _examples(values: list[str]) -> str:
    more = f", and {len(values) - _SHOWN:,} more" if len(values) > _SHOWN else ""
    return "; ".join(values[:_SHOWN]) + more


def _problems(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in error.errors(include_url=False))


def plan_import(data: DjangoData) -> ImportPlan:
    plan = ImportPlan(data, data.fingerprint())
    _plan_users(data.users, plan)
    _plan_products(plan)
    _plan_orders(plan)
    return plan


def _plan_users(users: list[DjangoUser], plan: ImportPlan) -> None:
    email_owner: dict[str, DjangoUser] = {}
    by_username: dict[str, DjangoUser] = {}
    without_email: list[str] = []
    unverifiable: list[str] = []
    for user in users:
        username = normalize_username(user.username)
        if user.id < 1:
            plan.rejected.append(f"user {user.id}: ids must be positive")
            continue
        if not username or len(username) > MAX_USERNAME_LENGTH:
            plan.rejected.append(f"user {user.id}: the username must be 1 to {MAX_USERNAME_LENGTH} characters")
            continue
        if username in by_username:
            plan.rejected.append(
                f"user {user.id}: username {user.username!r} is user {by_username[username].id}'s once normalised (NFKC)"
            )
            continue
        by_username[username] = user
        email = user.email.strip()
        if email and email.lower() in email_owner:
            without_email.append(f"{username} ({email}, kept by {email_owner[email.lower()].username})")
            email = ""
        elif email:
            email_owner[email.lower()] = user
        if not is_verifiable(user.password):
            unverifiable.append(username)
        plan.accounts.append(
            NewAccount(
                user_id=user.id,
                username=username,
                password_hash=user.password,
                email=email,
                first_name=user.first_name,
                last_name=user.last_name,
                is_staff=user.is_staff,
                is_active=user.is_active,
                date_joined=user.date_joined.isoformat(),
            )
        )
    if without_email:
        plan.notes.append(
            f"{_counted(len(without_email), 'user')} imported without an email, which another user has "
            f"(emails are unique here): {_examples(without_email)}"
        )
    if unverifiable:
        plan.notes.append(
            f"{_counted(len(unverifiable), 'user')} cannot sign in until given a password (`shopctl set-password`): "
            f"their hash is unusable or of another algorithm than PBKDF2: {_examples(unverifiable)}"
        )


def _plan_products(plan: ImportPlan) -> None:
    rounded: list[str] = []
    for record in plan.data.products:
        if not 1 <= record.id <= _LARGEST_PRODUCT_ID:
            plan.rejected.append(f"product {record.id}: ids must be 1 to {_LARGEST_PRODUCT_ID:,}")
            continue
        price = price_in_cents(record.price)
        if price != record.price:
            rounded.append(f"product {record.id} {record.price} -> {price}")
        try:
            product = Product(
                id=record.id,
                name=record.name,
                description=record.description,
                price=price,
                quantity=record.quantity,
            )
        except ValidationError as error:
            plan.rejected.append(f"product {record.id} ({record.name[:40]!r}): {_problems(error)}")
            continue
        plan.products.append(product)
    if rounded:
        plan.notes.append(
            f"{_counted(len(rounded), 'price')} had more than two decimal places and were rounded half to even "
            f"to cents: {_examples(rounded)}"
        )


def _plan_orders(plan: ImportPlan) -> None:
    users = {account.user_id for account in plan.accounts}
    products = {product.id for product in plan.products}
    orders = {order.id for order in plan.data.orders}
    parts_of: dict[int, list[DjangoOrderPart]] = defaultdict(list)
    orphan_parts: list[str] = []
    unknown_products: list[str] = []
    for part in plan.data.parts:
        if part.order_id not in orders:
            orphan_parts.append(f"part {part.id} of order {part.order_id} ({part.product_name} x {part.quantity_in_order})")
        else:
            parts_of[part.order_id].append(part)
    orphan_orders: list[str] = []
    empty: list[str] = []
    for record in plan.data.orders:
        if record.user_id is None or record.user_id not in users:
            orphan_orders.append(
                f"order {record.id} of {'a user not in the file' if record.user_id is None else f'user {record.user_id}'}"
            )
            continue
        parts: list[OrderPart] = []
        try:
            for part in parts_of[record.id]:
                product = part.product_id
                if product is not None and product not in products:
                    unknown_products.append(f"part {part.id} of order {record.id} ({part.product_name}, product {product})")
                    product = None
                parts.append(OrderPart(product=product, quantity_in_order=part.quantity_in_order, product_name=part.product_name))
            order = Order(
                id=record.id,
                user=record.user_id,
                created=record.created.isoformat(timespec="microseconds").replace("+00:00", "Z"),
                parts=parts,
            )
        except ValidationError as error:
            plan.rejected.append(f"order {record.id}: {_problems(error)}")
            continue
        plan.orders.append(order)
        if not order.parts:
            empty.append(str(order.id))
    if empty:
        plan.notes.append(f"{_counted(len(empty), 'order')} without parts imported as they are (orders {', '.join(empty[:20])})")
    if orphan_parts:
        plan.notes.append(
            f"skipped {_counted(len(orphan_parts), 'order part')} whose order no longer exists: {_examples(orphan_parts)}"
        )
    if orphan_orders:
        plan.notes.append(
            f"skipped {_counted(len(orphan_orders), 'order')} whose user no longer exists: {_examples(orphan_orders)}"
        )
    if unknown_products:
        plan.notes.append(
            f"{_counted(len(unknown_products), 'order part')} named a product that no longer exists: imported with a "
            f"null product, as for a deleted product: {_examples(unknown_products)}"
        )
