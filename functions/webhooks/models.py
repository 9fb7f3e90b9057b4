"""Request and response shapes of the staff webhooks API."""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shop_common.event_types import EventType
from shop_common.webhook_urls import MAX_URL_LENGTH

Url = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_URL_LENGTH)]
EventTypes = Annotated[list[EventType], Field(min_length=1, max_length=6, description="The event types it receives")]
Description = Annotated[str, Field(max_length=500)]


class NewWebhook(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Url = Field(description="Where deliveries are POSTed: https, a public address")
    events: EventTypes
    description: Description = ""


class WebhookChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Url | None = None
    events: EventTypes | None = None
    description: Description | None = None
    enabled: bool | None = Field(default=None, description="false stops deliveries; true resumes them (and clears a failure)")

    def changes(self) -> dict[str, Any]:
        return {name: value for name, value in self.model_dump(exclude_unset=True).items() if value is not None}


class WebhookJson(BaseModel):
    """An endpoint as staff see it (its secret is shown only when made)."""

    id: str
    url: str
    events: list[EventType]
    description: str
    enabled: bool
    status: Literal["healthy", "failing", "disabled"] = Field(
        description="failing: deliveries fail since `failing_since`; disabled: by staff, or after failing for days"
    )
    failing_since: str | None
    disabled_at: str | None
    disabled_reason: str | None
    created: str


class NewWebhookJson(WebhookJson):
    secret: str = Field(description="`whsec_` + base64: the signing secret, shown only now")


class RotatedSecretJson(BaseModel):
    secret: str = Field(description="The new signing secret, shown only now")
    previous_secret_expires_at: str = Field(description="Until then deliveries are signed with both secrets")


class DeliveryEventJson(BaseModel):
    id: str = Field(description="The event's id, sent as `webhook-id` on every attempt")
    type: EventType


class DeliveryJson(BaseModel):
    id: str
    event: DeliveryEventJson
    state: Literal["pending", "succeeded", "failed", "skipped"]
    attempts: int
    status_code: int | None = Field(description="The last attempt's HTTP status; null: no answer (timeout, refused...)")
    latency_ms: int | None
    error: str | None
    created: str
    last_attempt_at: str | None
    next_retry_at: str | None
