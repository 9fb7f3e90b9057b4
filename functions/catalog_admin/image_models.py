"""Request and response shapes of the staff photo API (POST, PATCH /api/products/{id}/images,
DELETE /api/products/{id}/images/{image_id})."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from shop_common.json_types import JsonInteger
from shop_common.product_images import MAX_BYTES, MAX_IMAGES

ImageType = Literal["image/png", "image/jpeg", "image/gif", "image/webp"]
IMAGE_ID_PATTERN = r"^[0-9a-f]{16}$"
ImageId = Annotated[str, Field(pattern=IMAGE_ID_PATTERN, description="A photo's id")]


class ImageUploadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content_type: ImageType = Field(description="The photo's media type; the upload must send exactly this one")
    content_length: Annotated[int, Field(ge=1, le=MAX_BYTES, description=f"Bytes, at most {MAX_BYTES:,}"), JsonInteger]
    alt: Annotated[str, Field(max_length=300, description="Text for those who cannot see the photo")] = ""


class ImageOrder(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order: Annotated[list[ImageId], Field(max_length=MAX_IMAGES, description="Every current photo's id, in the new order")]


class PendingImage(BaseModel):
    id: ImageId
    alt: str
    status: Literal["pending"]


class UploadForm(BaseModel):
    url: str = Field(description="POST the file here as multipart/form-data")
    fields: dict[str, str] = Field(description="Form fields to send, unchanged, before the file (field `file`)")


class ImageUpload(BaseModel):
    image: PendingImage
    upload: UploadForm


class ImageView(BaseModel):
    id: ImageId
    url: str
    alt: str
    width: int
    height: int


class ProductImages(BaseModel):
    id: Annotated[int, Field(ge=1)]
    images: list[ImageView]


class UploadView(BaseModel):
    id: ImageId
    alt: str
    content_type: str
    status: Literal["pending", "expired", "rejected"] = Field(
        description="pending: being uploaded or checked (counts against the limit of photos); expired: handed out "
        "over an hour ago and never accepted (no longer counts); rejected: the file was not what was declared"
    )
    expires_at: str = Field(description="When a pending upload stops counting against the limit (UTC)")
    reason: str | None = Field(default=None, description="Why the file was rejected (rejected only)")


class AllPhotos(BaseModel):
    id: Annotated[int, Field(ge=1)]
    images: list[ImageView]
    uploads: list[UploadView] = Field(description="Uploads not accepted, oldest first: delete them with DELETE .../images/{id}")
