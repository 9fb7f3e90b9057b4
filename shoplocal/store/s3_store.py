"""The embedded store's S3: moto's S3 on the store's port (beside DynamoDB), with what moto leaves out
and the shop relies on.

- **Browser upload forms** (presigned POSTs): moto stores whatever is posted. Here the form's
  policy is checked as S3 checks it: the SigV4 signature over the policy, its expiry, every
  condition (exact values, `starts-with`, `content-length-range`), and no field the policy does
  not cover. A refused upload gets S3's XML error and stores nothing.
- **Kept on disk**: every object written (a form upload, a PUT, a copy) or deleted is mirrored to
  `<data dir>/s3/` before its answer leaves, and loaded back at start.
- **Event notifications**: listeners hear of each object created, after the answer (S3 invokes
  Lambda asynchronously too); `make run` runs the functions the template subscribes.
- **Reads for browsers**: a bucket created with `served=True` answers unsigned GET and HEAD
  requests for its objects, as the CloudFront distribution in front of the private bucket does
  when deployed (moto, like S3, refuses anonymous reads of a private bucket).

Only the buckets created here (path-style URLs, `http://127.0.0.1:8000/<bucket>/<key>`) get this;
anything else reaches moto as it is.
"""

import base64
import contextlib
import hashlib
import hmac
import io
import json
import logging
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

log = logging.getLogger("shoplocal.store")

WsgiApplication = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
ObjectCreated = Callable[[str, str, int], None]  # bucket, key, size

# Form fields S3 leaves out of the policy's checks (AWS: "x-amz-signature, file, policy, and
# field names that have an x-ignore- prefix").
_UNCHECKED_FIELDS = {"policy", "x-amz-signature", "file"}


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str
    message: str

    def body(self) -> bytes:
        return (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{escape(self.code)}</Code>'
            f"<Message>{escape(self.message)}</Message></Error>"
        ).encode()


def _policy_failed(message: str) -> Refusal:
    return Refusal(403, "AccessDenied", f"Invalid according to Policy: {message}")


def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def check_upload_form(
    fields: Mapping[str, str], file_size: int | None, bucket: str, secrets: Mapping[str, str], now: datetime
) -> Refusal | None:
    """What S3 answers a browser-form upload (field names as sent, the file's size, or None
    without a file) to `bucket`; None when it accepts it. `secrets`: secret key by access key id."""
    form = {name.lower(): value for name, value in fields.items()}
    if file_size is None:
        return Refusal(400, "InvalidArgument", "POST requires exactly one file upload per request.")
    if "policy" not in form:
        return Refusal(403, "AccessDenied", "Bucket POST must contain a field named 'policy'.")
    if form.get("x-amz-algorithm") != "AWS4-HMAC-SHA256":
        return Refusal(400, "InvalidArgument", "The local store checks SigV4 forms only (x-amz-algorithm AWS4-HMAC-SHA256).")
    credential = form.get("x-amz-credential", "").split("/")
    if len(credential) != 5 or credential[4] != "aws4_request":
        return Refusal(400, "InvalidArgument", "Malformed x-amz-credential.")
    access_key, date, region, service, _ = credential
    if access_key not in secrets:
        return Refusal(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
    expected = hmac.new(_signing_key(secrets[access_key], date, region, service), form["policy"].encode(), hashlib.sha256)
    if not hmac.compare_digest(expected.hexdigest(), form.get("x-amz-signature", "")):
        message = "The request signature we calculated does not match the signature you provided."
        return Refusal(403, "SignatureDoesNotMatch", message)
    try:
        policy = json.loads(base64.b64decode(form["policy"], validate=True))
        expiration = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
        conditions = list(policy["conditions"])
    except (ValueError, KeyError, TypeError):
        return Refusal(400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.")
    if now >= expiration:
        return _policy_failed("Policy expired.")
    values = {**form, "bucket": bucket}
    covered: set[str] = set()
    for condition in conditions:
        refusal = _check_condition(condition, values, file_size, covered)
        if refusal is not None:
            return refusal
    unchecked = {name for name in form if name in _UNCHECKED_FIELDS or name.startswith("x-ignore-")}
    extra = sorted(set(form) - covered - unchecked)
    if extra:
        return _policy_failed(f"Extra input fields: {', '.join(extra)}")
    return None


def _check_condition(condition: Any, values: Mapping[str, str], file_size: int, covered: set[str]) -> Refusal | None:
    if isinstance(condition, dict) and len(condition) == 1:
        ((name, expected),) = condition.items()
        condition = ["eq", f"${name}", expected]
    if not isinstance(condition, list) or len(condition) != 3:
        return Refusal(400, "InvalidPolicyDocument", f"Invalid Policy: Invalid condition {condition!r}.")
    operator, subject, expected = condition
    if operator == "content-length-range":
        low, high = int(subject), int(expected)
        if file_size < low:
            return Refusal(400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size")
        if file_size > high:
            return Refusal(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
        return None
    if operator not in ("eq", "starts-with") or not str(subject).startswith("$"):
        return Refusal(400, "InvalidPolicyDocument", f"Invalid Policy: Invalid condition {condition!r}.")
    name = str(subject)[1:].lower()
    covered.add(name)
    actual = values.get(name, "")
    if (actual != expected) if operator == "eq" else not actual.startswith(str(expected)):
        return _policy_failed(f'Policy Condition failed: ["{operator}", "${name}", "{expected}"]')
    return None


def _multipart_form(environ: dict[str, Any], body: bytes) -> tuple[dict[str, str], bytes | None, str]:
    """The text fields, the file's content (None without one) and its file name."""
    from werkzeug.formparser import parse_form_data

    form_environ = {**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
    _, form, files = parse_form_data(form_environ)
    upload = files.get("file")
    content = upload.read() if upload is not None else None
    return {name: form[name] for name in form}, content, (upload.filename or "") if upload is not None else ""


class S3Part:
    """The buckets of the embedded store, their disk mirror and their upload checks."""

    def __init__(self, folder: Path, account_id: str, region: str, secrets: Mapping[str, str]) -> None:
        self.folder = folder
        self.account_id = account_id
        self.region = region
        self.secrets = dict(secrets)
        self.buckets: set[str] = set()
        self.served: set[str] = set()
        self._listeners: list[ObjectCreated] = []
        self._lock = threading.Lock()

    @property
    def backend(self) -> Any:
        from moto.s3.models import s3_backends

        return s3_backends[self.account_id]["aws"]

    def on_object_created(self, listener: ObjectCreated) -> None:
        self._listeners.append(listener)

    # --- buckets and their disk mirror ---------------------------------------------------------

    def create_bucket(self, name: str, *, served: bool = False) -> None:
        """The bucket, if it does not exist yet, with the objects kept on disk for it; `served`:
        its objects are readable without credentials (a CloudFront distribution's part)."""
        with self._lock:
            if served:
                self.served.add(name)
            if name not in self.buckets:
                with contextlib.suppress(Exception):  # moto's BucketAlreadyExists: created before
                    self.backend.create_bucket(name, self.region)
                self.buckets.add(name)
                self._load(name)

    def _objects_folder(self, bucket: str) -> Path:
        return self.folder / bucket

    def _file(self, bucket: str, key: str) -> Path:
        return self._objects_folder(bucket) / base64.urlsafe_b64encode(key.encode()).decode()

    def _load(self, bucket: str) -> None:
        folder = self._objects_folder(bucket)
        if not folder.is_dir():
            return
        for meta_path in folder.glob("*.json"):
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            content = meta_path.with_suffix("").read_bytes()
            stored = self.backend.put_object(bucket, meta["key"], content, disable_notification=True)
            stored.set_metadata(meta["metadata"])

    def _sync(self, bucket: str, key: str) -> int | None:
        """Mirror one object to disk as moto now holds it (or remove it); its size, None if gone."""
        stored = None
        with contextlib.suppress(Exception):  # moto's MissingKey
            stored = self.backend.get_object(bucket, key)
        path = self._file(bucket, key)
        if stored is None:
            path.unlink(missing_ok=True)
            path.with_suffix(".json").unlink(missing_ok=True)
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_durably(path, bytes(stored.value))
        metadata = {name: str(value) for name, value in dict(stored.metadata).items()}
        _write_durably(path.with_suffix(".json"), json.dumps({"key": key, "metadata": metadata}).encode())
        return len(stored.value)

    def _sync_bucket(self, bucket: str) -> None:
        """After a multi-object delete: drop the files of objects moto no longer has."""
        folder = self._objects_folder(bucket)
        for meta_path in folder.glob("*.json") if folder.is_dir() else []:
            self._sync(bucket, json.loads(meta_path.read_text(encoding="utf-8"))["key"])

    # --- requests ------------------------------------------------------------------------------

    def wrap(self, application: WsgiApplication) -> WsgiApplication:
        """The store's WSGI application with this part in front of its buckets."""

        def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            bucket, _, key = environ.get("PATH_INFO", "").lstrip("/").partition("/")
            if bucket not in self.buckets:
                return application(environ, start_response)
            return self._serve(application, environ, start_response, bucket, key)

        return serve

    def _serve(
        self, application: WsgiApplication, environ: dict[str, Any], start_response: Callable[..., Any], bucket: str, key: str
    ) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        query = environ.get("QUERY_STRING", "")
        unsigned = "HTTP_AUTHORIZATION" not in environ and "X-Amz-Signature=" not in query
        if method in ("GET", "HEAD") and key and unsigned and bucket in self.served:
            return self._serve_publicly(start_response, bucket, key, method)
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        is_form = method == "POST" and not key and environ.get("CONTENT_TYPE", "").startswith("multipart/form-data")
        if is_form:
            fields, content, filename = _multipart_form(environ, body)
            size = None if content is None else len(content)
            refusal = check_upload_form(fields, size, bucket, self.secrets, datetime.now(UTC))
            if refusal is not None:
                log.info("S3: refused an upload to %s: %s", bucket, refusal.message)
                start_response(f"{refusal.status} Refused", [("Content-Type", "application/xml")])
                return [refusal.body()]
            key = next((value for name, value in fields.items() if name.lower() == "key"), "").replace("${filename}", filename)
        status: list[str] = []

        def capture(status_line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status[:] = [status_line]
            return start_response(status_line, headers, exc_info) if exc_info else start_response(status_line, headers)

        answer = b"".join(application(environ, capture))
        succeeded = status and status[0][:1] == "2"
        created = None
        if succeeded and method in ("PUT", "POST", "DELETE"):
            with self._lock:
                if method == "POST" and "delete" in query.split("&"):
                    self._sync_bucket(bucket)
                elif key:
                    size = self._sync(bucket, key)
                    if size is not None and method != "DELETE" and (method == "POST" or not _is_sub_resource(query)):
                        created = (bucket, key, size)
        if created is not None:
            threading.Thread(target=self._notify, args=created, name="s3-notification", daemon=True).start()
        return [answer]

    def _serve_publicly(self, start_response: Callable[..., Any], bucket: str, key: str, method: str) -> Iterable[bytes]:
        stored = None
        with contextlib.suppress(Exception):  # moto's MissingKey
            stored = self.backend.get_object(bucket, key)
        if stored is None:
            missing = Refusal(404, "NoSuchKey", "The specified key does not exist.")
            start_response("404 Not Found", [("Content-Type", "application/xml")])
            return [missing.body()]
        content = bytes(stored.value)
        headers = [
            ("Content-Type", str(stored.metadata.get("Content-Type") or "binary/octet-stream")),
            ("ETag", f'"{stored.etag.strip(chr(34))}"'),
            ("Cache-Control", "max-age=86400"),
            ("X-Content-Type-Options", "nosniff"),  # as the distribution's security headers policy
            ("Access-Control-Allow-Origin", "*"),
        ]
        start_response("200 OK", headers)
        return [b"" if method == "HEAD" else content]

    def _notify(self, bucket: str, key: str, size: int) -> None:
        for listener in self._listeners:
            try:
                listener(bucket, key, size)
            except Exception:
                log.exception("S3: a notification for %s/%s failed", bucket, key)


def _is_sub_resource(query: str) -> bool:
    """A PUT that sets something of an object (tags, ACL, a part of an upload) creates none."""
    names = {part.partition("=")[0] for part in query.split("&") if part}
    return bool(names & {"tagging", "acl", "partNumber", "uploadId", "retention", "legal-hold"})


def _write_durably(path: Path, content: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)
