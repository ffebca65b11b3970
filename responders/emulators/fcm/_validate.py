"""Validation of `messages:send` request bodies, the way FCM HTTP v1 rejects them.

Two kinds of failure, as Google reports them: proto/JSON parse errors (unknown field names,
wrong JSON types, malformed enums and durations) and semantic errors (no or several targets,
bad token, TTL out of range, message too big, bad APNs headers). Both are 400
INVALID_ARGUMENT; only the semantic ones carry an FcmError detail.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from responders.emulators.fcm._errors import Reply, invalid_argument_reply, parse_error_reply

__all__ = ["MAX_PAYLOAD_BYTES", "MAX_TTL_S", "SendRequest", "Violation", "parse_send_request"]

MAX_PAYLOAD_BYTES = 4096
MAX_TTL_S = 28 * 24 * 3600  # FCM keeps a message at most four weeks

_TARGETS = ("token", "fid", "topic", "condition")
_DURATION = re.compile(r"^(-?)(\d+)(?:\.(\d{1,9}))?s$")
_TOPIC = re.compile(r"^(/topics/)?[a-zA-Z0-9\-_.~%]+$")
_ANALYTICS_LABEL = re.compile(r"^[a-zA-Z0-9\-_.~%]{1,50}$")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_RESERVED_DATA_KEYS = frozenset({"from", "notification", "message_type"})
_RESERVED_DATA_PREFIXES = ("google.", "gcm.")
_APNS_PUSH_TYPES = frozenset(
    {
        "alert",
        "background",
        "location",
        "voip",
        "complication",
        "fileprovider",
        "mdm",
        "liveactivity",
        "pushtotalk",
        "widgets",
        "controls",
    }
)
_INTERRUPTION_LEVELS = frozenset({"passive", "active", "time-sensitive", "critical"})
_WEBPUSH_URGENCY = frozenset({"very-low", "low", "normal", "high"})

# Field name -> JSON kind, per proto message; unknown names are parse errors as in FCM.
_Schema = Mapping[str, str]
_MESSAGE: _Schema = {
    "name": "string",
    "data": "string_map",
    "notification": "object",
    "android": "object",
    "webpush": "object",
    "apns": "object",
    "fcm_options": "object",
    "token": "string",
    "topic": "string",
    "condition": "string",
    "fid": "string",
}
_NOTIFICATION: _Schema = {"title": "string", "body": "string", "image": "string"}
_ANDROID: _Schema = {
    "collapse_key": "string",
    "priority": "string",
    "ttl": "string",
    "restricted_package_name": "string",
    "data": "string_map",
    "notification": "object",
    "fcm_options": "object",
    "direct_boot_ok": "bool",
    "bandwidth_constrained_ok": "bool",
    "restricted_satellite_ok": "bool",
}
_ANDROID_NOTIFICATION: _Schema = {
    **{
        name: "string"
        for name in (
            "title",
            "body",
            "icon",
            "color",
            "sound",
            "tag",
            "click_action",
            "body_loc_key",
            "title_loc_key",
            "channel_id",
            "ticker",
            "event_time",
            "notification_priority",
            "visibility",
            "image",
            "proxy",
        )
    },
    **{
        name: "bool"
        for name in (
            "sticky",
            "local_only",
            "default_sound",
            "default_vibrate_timings",
            "default_light_settings",
            "bypass_proxy_notification",
        )
    },
    "body_loc_args": "string_list",
    "title_loc_args": "string_list",
    "vibrate_timings": "string_list",
    "notification_count": "int",
    "light_settings": "object",
}
_APNS: _Schema = {
    "headers": "string_map",
    "payload": "object",
    "fcm_options": "object",
    "live_activity_token": "string",
}
_WEBPUSH: _Schema = {
    "headers": "string_map",
    "data": "string_map",
    "notification": "object",
    "fcm_options": "object",
}
_FCM_OPTIONS: _Schema = {"analytics_label": "string"}
_APNS_FCM_OPTIONS: _Schema = {"analytics_label": "string", "image": "string"}
_WEBPUSH_FCM_OPTIONS: _Schema = {"link": "string", "analytics_label": "string"}
_REQUEST: _Schema = {"message": "object", "validate_only": "bool"}

_PROTO_TYPES = {"string": "TYPE_STRING", "bool": "TYPE_BOOL", "int": "TYPE_INT32"}


class Violation(Exception):
    """A request FCM would refuse; `reply()` is the 400 it would answer."""

    def __init__(self, field_path: str, description: str, *, parse: bool = False) -> None:
        super().__init__(description)
        self.field_path = field_path
        self.description = description
        self.parse = parse

    def reply(self) -> Reply:
        if self.parse:
            return parse_error_reply(self.field_path, self.description)
        return invalid_argument_reply(self.field_path, self.description)


@dataclass(frozen=True)
class SendRequest:
    """A valid send request; `target_field` is token / fid / topic / condition."""

    message: Mapping[str, Any]
    validate_only: bool
    target_field: str
    target: str


def parse_send_request(raw: bytes) -> SendRequest:
    """Parses and validates a `messages:send` body; raises `Violation`."""
    request = _fields(_load_json(raw), "", _REQUEST)
    if "message" not in request:
        raise Violation("message", "Request contains an invalid argument: message is required.")
    message = _fields(request["message"], "message", _MESSAGE)
    target_field, target = _target(message)
    _check_data(message.get("data"), "message.data")
    _fields(message.get("notification", {}), "message.notification", _NOTIFICATION)
    _check_fcm_options(message.get("fcm_options"), "message.fcm_options", _FCM_OPTIONS)
    _check_android(message.get("android"))
    _check_apns(message.get("apns"))
    _check_webpush(message.get("webpush"))
    _check_size(message)
    return SendRequest(
        message=request["message"],
        validate_only=bool(request.get("validate_only", False)),
        target_field=target_field,
        target=target,
    )


def _load_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Violation("", f"Unexpected token: {exc}", parse=True) from exc


@functools.lru_cache(maxsize=512)  # the same few dozen names arrive on every request
def _snake(name: str) -> str:
    # The proto JSON parser accepts lowerCamelCase as well as the original field names.
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _fields(value: Any, path: str, schema: _Schema) -> dict[str, Any]:
    """The object's fields under their snake_case names, each checked against the schema."""
    if not isinstance(value, dict):
        raise Violation(path, f"Invalid value at '{path}', expected an object.", parse=True)
    fields: dict[str, Any] = {}
    for name, item in value.items():
        key = _snake(name)
        if key not in schema:
            where = f" at '{path}'" if path else ""
            raise Violation(path, f'Unknown name "{name}"{where}: Cannot find field.', parse=True)
        _check_kind(item, f"{path}.{key}" if path else key, schema[key])
        fields[key] = item
    return fields


_KIND_CHECKS: Mapping[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "bool": lambda v: isinstance(v, bool),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "string_list": lambda v: isinstance(v, list) and all(isinstance(i, str) for i in v),
    "string_map": lambda v: isinstance(v, dict) and all(isinstance(i, str) for i in v.values()),
}


def _check_kind(value: Any, path: str, kind: str) -> None:
    if not _KIND_CHECKS[kind](value):
        proto = _PROTO_TYPES.get(kind, kind)
        raise Violation(
            path, f"Invalid value at '{path}' ({proto}), {json.dumps(value)[:100]}", parse=True
        )


def _target(message: Mapping[str, Any]) -> tuple[str, str]:
    present = [name for name in _TARGETS if name in message]
    if len(present) != 1:
        raise Violation(
            "message",
            "Exactly one of message.token, message.fid, message.topic or "
            f"message.condition must be specified (got {len(present)}).",
        )
    name = present[0]
    value: str = message[name]
    if name in ("token", "fid") and (not value or any(c.isspace() for c in value)):
        raise Violation(
            f"message.{name}", "The registration token is not a valid FCM registration token"
        )
    if name == "topic" and not _TOPIC.match(value):
        raise Violation("message.topic", f"Invalid topic name: {value!r}")
    if name == "condition" and not value.strip():
        raise Violation("message.condition", "The condition must not be empty.")
    return name, value


def _check_data(data: Mapping[str, str] | None, path: str) -> None:
    for key in data or {}:
        if key in _RESERVED_DATA_KEYS or key.startswith(_RESERVED_DATA_PREFIXES):
            raise Violation(path, f"Invalid data payload key: {key}")


def _check_fcm_options(options: Any, path: str, schema: _Schema) -> None:
    if options is None:
        return
    label = _fields(options, path, schema).get("analytics_label")
    if label is not None and not _ANALYTICS_LABEL.match(label):
        raise Violation(f"{path}.analytics_label", "Analytics label is malformed.")


def _check_android(android: Any) -> None:
    if android is None:
        return
    fields = _fields(android, "message.android", _ANDROID)
    priority = fields.get("priority")
    if priority is not None and priority.upper() not in ("NORMAL", "HIGH"):
        raise Violation(
            "message.android.priority",
            "Invalid value at 'message.android.priority' "
            f"(type.googleapis.com/google.firebase.fcm.v1.AndroidMessagePriority), {priority!r}",
            parse=True,
        )
    if "ttl" in fields:
        _check_ttl(fields["ttl"])
    _check_data(fields.get("data"), "message.android.data")
    _check_android_notification(fields.get("notification"))
    _check_fcm_options(fields.get("fcm_options"), "message.android.fcm_options", _FCM_OPTIONS)


def _check_ttl(ttl: str) -> None:
    match = _DURATION.match(ttl)
    if match is None:
        raise Violation(
            "message.android.ttl",
            "Invalid value at 'message.android.ttl' (type.googleapis.com/google.protobuf."
            f"Duration), Field 'ttl', Illegal duration format; duration must end with 's': {ttl}",
            parse=True,
        )
    negative, seconds = match.group(1), int(match.group(2))
    if negative or seconds > MAX_TTL_S:
        raise Violation(
            "message.android.ttl",
            f"TTL out of range: {ttl}; it must be between 0s and {MAX_TTL_S}s (28 days).",
        )


def _check_android_notification(notification: Any) -> None:
    if notification is None:
        return
    path = "message.android.notification"
    fields = _fields(notification, path, _ANDROID_NOTIFICATION)
    checks = {
        "notification_priority": lambda v: (
            v.startswith("PRIORITY_")
            and v[9:] in ("UNSPECIFIED", "MIN", "LOW", "DEFAULT", "HIGH", "MAX")
        ),
        "visibility": lambda v: v in ("VISIBILITY_UNSPECIFIED", "PRIVATE", "PUBLIC", "SECRET"),
        "color": lambda v: bool(_COLOR.match(v)),
    }
    for name, ok in checks.items():
        if name in fields and not ok(fields[name]):
            raise Violation(f"{path}.{name}", f"Invalid value at '{path}.{name}': {fields[name]}")


def _check_apns(apns: Any) -> None:
    if apns is None:
        return
    fields = _fields(apns, "message.apns", _APNS)
    _check_apns_headers(fields.get("headers", {}))
    if "payload" in fields:
        _check_aps(fields["payload"].get("aps"))
    _check_fcm_options(fields.get("fcm_options"), "message.apns.fcm_options", _APNS_FCM_OPTIONS)


def _check_apns_headers(headers: Mapping[str, str]) -> None:
    path = "message.apns.headers"
    lowered = {key.lower(): value for key, value in headers.items()}
    priority = lowered.get("apns-priority")
    if priority is not None and priority not in ("1", "5", "10"):
        raise Violation(path, f"Invalid apns-priority: {priority!r}; must be 1, 5 or 10.")
    push_type = lowered.get("apns-push-type")
    if push_type is not None and push_type not in _APNS_PUSH_TYPES:
        raise Violation(path, f"Invalid apns-push-type: {push_type!r}.")
    if push_type == "background" and priority not in (None, "5"):
        raise Violation(path, "Background notifications must use apns-priority 5.")
    expiration = lowered.get("apns-expiration")
    if expiration is not None and not expiration.isdigit():
        raise Violation(path, f"Invalid apns-expiration: {expiration!r}; must be UNIX seconds.")
    collapse_id = lowered.get("apns-collapse-id")
    if collapse_id is not None and len(collapse_id.encode()) > 64:
        raise Violation(path, "apns-collapse-id must not exceed 64 bytes.")


def _check_aps(aps: Any) -> None:
    path = "message.apns.payload.aps"
    if aps is None:
        return
    if not isinstance(aps, dict):
        raise Violation(path, "aps must be a dictionary.")
    sound = aps.get("sound")
    if isinstance(sound, dict):
        _check_critical_sound(sound, f"{path}.sound")
    elif sound is not None and not (isinstance(sound, str) and sound):
        raise Violation(f"{path}.sound", "sound must be a non-empty string or a dictionary.")
    level = aps.get("interruption-level")
    if level is not None and level not in _INTERRUPTION_LEVELS:
        raise Violation(f"{path}.interruption-level", f"Invalid interruption-level: {level!r}")


def _check_critical_sound(sound: Mapping[str, Any], path: str) -> None:
    name, critical, volume = sound.get("name"), sound.get("critical"), sound.get("volume")
    if not isinstance(name, str) or not name:
        raise Violation(f"{path}.name", "Critical sound name must be a non-empty string.")
    if critical not in (None, 0, 1):
        raise Violation(f"{path}.critical", "critical must be 0 or 1.")
    valid_volume = isinstance(volume, int | float) and not isinstance(volume, bool)
    if volume is not None and not (valid_volume and 0 <= volume <= 1):
        raise Violation(f"{path}.volume", "volume must be a number between 0 and 1.")


def _check_webpush(webpush: Any) -> None:
    if webpush is None:
        return
    fields = _fields(webpush, "message.webpush", _WEBPUSH)
    headers = {key.lower(): value for key, value in fields.get("headers", {}).items()}
    if "ttl" in headers and not headers["ttl"].isdigit():
        raise Violation("message.webpush.headers", f"Invalid TTL header: {headers['ttl']!r}")
    if "urgency" in headers and headers["urgency"] not in _WEBPUSH_URGENCY:
        raise Violation("message.webpush.headers", f"Invalid Urgency: {headers['urgency']!r}")
    _check_data(fields.get("data"), "message.webpush.data")
    path = "message.webpush.fcm_options"
    _check_fcm_options(fields.get("fcm_options"), path, _WEBPUSH_FCM_OPTIONS)


def payload_size(message: Mapping[str, Any]) -> int:
    """Bytes counted against FCM's 4096-byte limit, per platform, the larger one.

    Android: key and value bytes of the data fields plus the notification strings. APNs: the
    JSON size of the APNs payload with the data fields merged in, as FCM delivers it.
    """
    android = message.get("android") or {}
    data = {**message.get("data", {}), **android.get("data", {})}
    strings = [
        value
        for section in (message.get("notification"), android.get("notification"))
        for value in (section or {}).values()
        if isinstance(value, str)
    ]
    android_size = sum(len(k.encode()) + len(v.encode()) for k, v in data.items())
    android_size += sum(len(s.encode()) for s in strings)
    apns_payload = (message.get("apns") or {}).get("payload")
    apns_size = 0
    if apns_payload is not None:
        merged = {**message.get("data", {}), **apns_payload}
        apns_size = len(json.dumps(merged, separators=(",", ":")).encode())
    return max(android_size, apns_size)


def _check_size(message: Mapping[str, Any]) -> None:
    size = payload_size(message)
    if size > MAX_PAYLOAD_BYTES:
        raise Violation(
            "message", f"Message is too big: {size} bytes; the limit is {MAX_PAYLOAD_BYTES}."
        )
