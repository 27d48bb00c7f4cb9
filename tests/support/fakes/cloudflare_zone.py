"""The DNS records of one zone as Cloudflare keeps them: validation, conflicts, pages, batches.

Refusals are ``CloudflareRefusal`` with the HTTP status and the error code Cloudflare answers.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

RECORD_TYPES = ("A", "AAAA", "CNAME", "TXT")
PROXIABLE_TYPES = ("A", "AAAA", "CNAME")
MAX_COMMENT_LENGTH = 100  # the Free plan's limit
_LABEL = re.compile(r"(?:\*|_?[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?)")
_LIST_PARAMETERS = {"name", "name.exact", "type", "page", "per_page"}


class CloudflareRefusal(Exception):
    def __init__(self, status: int, code: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.error = {"code": code, "message": message, **extra}


def record_missing() -> CloudflareRefusal:
    return CloudflareRefusal(404, 81044, "Record does not exist.")


class CloudflareZone:
    def __init__(self, name: str, *, max_per_page: int) -> None:
        self.name = name
        self.id = uuid.uuid4().hex
        self.max_per_page = max_per_page
        self.records: dict[str, dict[str, Any]] = {}

    def add(self, name: str, type: str, content: str, *, comment: str | None, ttl: int) -> str:
        record = self._stored(
            {"name": name, "type": type, "content": content, "ttl": ttl, "comment": comment}
        )
        self._check_conflicts(record, self.records)
        self.records[record["id"]] = record
        return str(record["id"])

    def delete(self, record_id: str) -> dict[str, Any]:
        if self.records.pop(record_id, None) is None:
            raise record_missing()
        return {"id": record_id}

    def list(self, query: Mapping[str, str]) -> tuple[list[dict[str, Any]], dict[str, int]]:
        unknown = set(query) - _LIST_PARAMETERS
        if unknown:
            raise CloudflareRefusal(400, 9999, f"this fake has no list parameter {sorted(unknown)}")
        page, per_page = whole_number(query, "page", 1), whole_number(query, "per_page", 100)
        if page < 1 or not 5 <= per_page <= 5_000_000:
            raise CloudflareRefusal(
                400, 1004, "DNS Validation Error: page or per_page out of range"
            )
        per_page = min(per_page, self.max_per_page)
        name = (query.get("name.exact") or query.get("name") or "").lower()
        found = [
            r
            for r in self.records.values()
            if (not name or r["name"] == name) and query.get("type", r["type"]) == r["type"]
        ]
        shown = found[(page - 1) * per_page : page * per_page]
        total_pages = -(-len(found) // per_page)
        info = {
            "page": page,
            "per_page": per_page,
            "count": len(shown),
            "total_count": len(found),
            "total_pages": total_pages,
        }
        return shown, info

    def create(self, fields: Any, records: dict[str, dict[str, Any]]) -> dict[str, Any]:
        record = self._stored(self._valid(fields))
        self._check_conflicts(record, records)
        records[record["id"]] = record
        return record

    def update(self, record_id: str, fields: Any) -> dict[str, Any]:
        existing = self.records.get(record_id)
        if existing is None:
            raise record_missing()
        record = self._stored(
            self._valid(fields), record_id=record_id, created_on=existing["created_on"]
        )
        self._check_conflicts(record, self.records)
        self.records[record_id] = record
        return record

    def batch(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or body.get("patches") or body.get("puts"):
            raise CloudflareRefusal(400, 9999, "this fake's batch takes deletes and posts only")
        # one transaction: work on a copy, keep it only if every operation succeeds
        records = dict(self.records)
        deleted = []
        for delete in body.get("deletes") or []:
            gone = records.pop(str(delete.get("id")), None) if isinstance(delete, dict) else None
            if gone is None:
                raise record_missing()
            deleted.append(gone)
        posted = [self.create(post, records) for post in body.get("posts") or []]
        self.records = records
        return {"deletes": deleted, "patches": [], "puts": [], "posts": posted}

    def _valid(self, fields: Any) -> dict[str, Any]:
        if not isinstance(fields, dict):
            raise CloudflareRefusal(400, 6007, "Malformed JSON in request body")
        record_type, content, ttl = fields.get("type"), fields.get("content"), fields.get("ttl")
        if record_type not in RECORD_TYPES:
            raise CloudflareRefusal(400, 1004, "DNS Validation Error: unsupported record type")
        if not isinstance(content, str) or not content:
            raise CloudflareRefusal(
                400,
                9005 if record_type == "A" else 1004,
                f"Content for {record_type} record is invalid.",
            )
        if ttl != 1 and not (isinstance(ttl, int) and 60 <= ttl <= 86_400):
            raise CloudflareRefusal(
                400, 9021, "Invalid TTL. Must be between 60 and 86400 seconds, or 1 for Automatic."
            )
        comment = fields.get("comment")
        if comment is not None and (
            not isinstance(comment, str) or len(comment) > MAX_COMMENT_LENGTH
        ):
            raise CloudflareRefusal(
                400, 9102, f"DNS record comment must be at most {MAX_COMMENT_LENGTH} characters."
            )
        proxied = fields.get("proxied", False)
        if not isinstance(proxied, bool) or (proxied and record_type not in PROXIABLE_TYPES):
            raise CloudflareRefusal(400, 9004, "This record type cannot be proxied.")
        name = self._full_name(fields.get("name"))
        check_content(record_type, content, name, proxied=proxied)
        return {
            "name": name,
            "type": record_type,
            "content": content.lower().removesuffix(".") if record_type == "CNAME" else content,
            "ttl": 1 if proxied else ttl,
            "proxied": proxied,
            "comment": comment,
        }

    def _full_name(self, name: Any) -> str:
        """Names outside the zone are taken as relative to it, "@" is the apex."""
        if not isinstance(name, str) or not name:
            raise CloudflareRefusal(400, 1004, "DNS Validation Error: name is required")
        full: str = name.lower().removesuffix(".")
        if full == "@":
            return self.name
        if full != self.name and not full.endswith("." + self.name):
            full = f"{full}.{self.name}"
        if len(full) > 253 or not all(_LABEL.fullmatch(label) for label in full.split(".")):
            raise CloudflareRefusal(400, 1004, "DNS Validation Error: DNS name is invalid.")
        return full

    def _stored(
        self, fields: dict[str, Any], *, record_id: str | None = None, created_on: str | None = None
    ) -> dict[str, Any]:
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        record = {
            "id": record_id or uuid.uuid4().hex,
            "zone_id": self.id,
            "zone_name": self.name,
            "proxiable": fields["type"] in PROXIABLE_TYPES,
            "proxied": False,
            "settings": {},
            "meta": {},
            "tags": [],
            "created_on": created_on or now,
            "modified_on": now,
            **fields,
        }
        if record["comment"] is not None:
            record["comment_modified_on"] = now
        return record

    @staticmethod
    def _check_conflicts(record: dict[str, Any], records: dict[str, dict[str, Any]]) -> None:
        for other in records.values():
            if other["id"] == record["id"] or other["name"] != record["name"]:
                continue
            if {record["type"], other["type"]} <= set(PROXIABLE_TYPES) and "CNAME" in (
                record["type"],
                other["type"],
            ):
                raise CloudflareRefusal(
                    400, 81053, "An A, AAAA, or CNAME record with that host already exists."
                )
            if other["type"] == record["type"] and other["content"] == record["content"]:
                raise CloudflareRefusal(400, 81058, "An identical record already exists.")


def check_content(record_type: str, content: str, name: str, *, proxied: bool) -> None:
    if record_type in ("A", "AAAA"):
        version = 4 if record_type == "A" else 6
        try:
            address = ipaddress.ip_address(content)
        except ValueError:
            address = None
        if address is None or address.version != version:
            code = 9005 if version == 4 else 9006
            raise CloudflareRefusal(
                400, code, f"Content for {record_type} record must be a valid IPv{version} address."
            )
        if proxied and not address.is_global:
            raise CloudflareRefusal(
                400, 9003, f"Target {content} is not allowed for a proxied record."
            )
    if record_type == "CNAME":
        labels = content.lower().removesuffix(".").split(".")
        if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
            raise CloudflareRefusal(400, 9007, "Content for CNAME record is invalid.")
        if content.lower().removesuffix(".") == name:
            raise CloudflareRefusal(400, 9007, "Content for CNAME record must not match its name.")


def whole_number(query: Mapping[str, str], key: str, default: int) -> int:
    value = query.get(key)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        number = 0.5
    if not number.is_integer():
        raise CloudflareRefusal(400, 1004, f"DNS Validation Error: {key} is not a whole number")
    return int(number)
