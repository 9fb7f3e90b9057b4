"""Lambda handler for the staff catalogue API (POST /api/products, PATCH and DELETE
/api/products/{product_id}, POST /api/products/{product_id}/stock, and the product's photos:
POST and PATCH /api/products/{product_id}/images, DELETE /api/products/{product_id}/images/{image_id}):
HTTP in and out, nothing else."""

from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from catalog_admin.image_admin import all_photos, delete_image, forget_photos_of, images_json, reorder, start_upload
from catalog_admin.image_models import IMAGE_ID_PATTERN, AllPhotos, ImageOrder, ImageUpload, ImageUploadRequest, ProductImages
from catalog_admin.product_admin import add, change, remove, restock
from catalog_admin.product_models import ProductChanges, ProductCreate, StaffProduct, StockChange, StockLevel
from shop_common.api import documented, json_response
from shop_common.signed_in import SIGNED_IN
from shop_common.staff_api import FORBIDDEN, staff_function, staff_handler

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

logger, app = staff_function()
UNKNOWN: "OpenAPIResponse" = {"description": "No product with that id"}
ProductId = Annotated[int, Path(ge=1, le=2**53, description="The product's id")]
ImagePathId = Annotated[str, Path(pattern=IMAGE_ID_PATTERN, description="A photo's id")]


@app.post(
    "/api/products",
    summary="Staff: add a product",
    security=SIGNED_IN,
    responses={201: documented("The product, with its new id", StaffProduct), 403: FORBIDDEN},
)
def create(product: ProductCreate) -> Response[str]:
    return json_response(201, add(product.model_dump()).to_json())


@app.patch(
    "/api/products/<product_id>",
    summary="Staff: change any fields of a product but its id (`sku: null` removes the SKU)",
    security=SIGNED_IN,
    responses={
        200: documented("The product as saved", StaffProduct),
        403: FORBIDDEN,
        404: UNKNOWN,
        409: {"description": "The product kept changing (orders); nothing was written, retrying is safe"},
    },
)
def edit(product_id: ProductId, changes: ProductChanges) -> Response[str]:
    return json_response(200, change(product_id, changes.changes()).to_json())


@app.delete(
    "/api/products/<product_id>",
    summary="Staff: delete a product and its photos (orders keep its name)",
    security=SIGNED_IN,
    responses={204: {"description": "Deleted"}, 403: FORBIDDEN, 404: UNKNOWN},
)
def delete(product_id: ProductId) -> Response[str]:
    remove(product_id)
    forget_photos_of(product_id)
    return Response(status_code=204, body="")


@app.post(
    "/api/products/<product_id>/stock",
    summary="Staff: add to (or, negative, take from) a product's stock, atomically with orders",
    security=SIGNED_IN,
    responses={
        200: documented("The new stock", StockLevel),
        403: FORBIDDEN,
        404: UNKNOWN,
        409: {"description": "The stock would go below 0 (or above the ceiling); nothing was written"},
    },
)
def stock(product_id: ProductId, request: StockChange) -> Response[str]:
    return json_response(200, {"id": product_id, "quantity": restock(product_id, request.delta)})


@app.post(
    "/api/products/<product_id>/images",
    summary="Staff: add a photo: a pending photo and a form to upload its file to (a presigned POST, valid 10 minutes)",
    description="POST the file to `upload.url` as multipart/form-data with `upload.fields` and then the file as "
    "`file`. The storage refuses another type or a larger file; the photo appears among the product's `images` "
    "once its bytes have been checked (its real type and dimensions), and is deleted if they are not an image.",
    security=SIGNED_IN,
    responses={
        201: documented("The pending photo and its upload form", ImageUpload),
        403: FORBIDDEN,
        404: UNKNOWN,
        409: {"description": "The product has its maximum of photos (pending ones count), or kept changing"},
    },
)
def add_image(product_id: ProductId, request: ImageUploadRequest) -> Response[str]:
    return json_response(201, start_upload(product_id, request.content_type, request.content_length, request.alt))


@app.get(
    "/api/products/<product_id>/images",
    summary="Staff: a product's photos, and its uploads not accepted (pending, expired, rejected with the reason)",
    security=SIGNED_IN,
    responses={200: documented("The accepted photos in order, and the other uploads", AllPhotos), 403: FORBIDDEN, 404: UNKNOWN},
)
def list_images(product_id: ProductId) -> Response[str]:
    return json_response(200, all_photos(product_id))


@app.patch(
    "/api/products/<product_id>/images",
    summary="Staff: put a product's photos in a new order (name each current photo once)",
    security=SIGNED_IN,
    responses={
        200: documented("The photos in their new order", ProductImages),
        403: FORBIDDEN,
        404: UNKNOWN,
        409: {"description": "The photos kept changing; nothing was written, retrying is safe"},
    },
)
def order_images(product_id: ProductId, request: ImageOrder) -> Response[str]:
    return json_response(200, {"id": product_id, "images": images_json(reorder(product_id, request.order))})


@app.delete(
    "/api/products/<product_id>/images/<image_id>",
    summary="Staff: delete a photo (checked or pending) and its file",
    security=SIGNED_IN,
    responses={204: {"description": "Deleted"}, 403: FORBIDDEN, 404: {"description": "No such product, or no such photo of it"}},
)
def remove_image(product_id: ProductId, image_id: ImagePathId) -> Response[str]:
    delete_image(product_id, image_id)
    return Response(status_code=204, body="")


# Every route here is for staff, checked before the body is parsed: anonymous 401, customer 403
# (the permission costs no read beyond the sign-in check's).
lambda_handler = staff_handler(app, logger)
