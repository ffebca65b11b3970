"""The local FCM emulator: wire format, validation, fault injection, admin API, storage, package."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from typing import Any

import httpx
import pytest
from firebase_admin import exceptions, messaging

import responders.push
from responders.emulators.fcm import FaultKind, FcmServerState, FcmServerThread
from responders.push import PushClient

BEARER = {"Authorization": "Bearer test-token"}
FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"


def post(http: httpx.Client, path: str, body: Any, **headers: str) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return http.post(path, content=content, headers={**BEARER, **headers})


def android(**fields: Any) -> dict[str, Any]:
    return {"message": {"token": "tok-1", "android": fields}}


def fcm_error_code(response: httpx.Response) -> str | None:
    for detail in response.json()["error"].get("details", []):
        if detail["@type"] == FCM_ERROR:
            return str(detail["errorCode"])
    return None


# --- wire format ---------------------------------------------------------------------------


def test_accepts_a_message_and_stores_it_under_its_token(
    fcm_state: FcmServerState, http: httpx.Client, send_path: str
) -> None:
    response = post(http, send_path, {"message": {"token": "tok-1", "data": {"a": "b"}}})

    assert response.status_code == 200
    name = response.json()["name"]
    assert name.startswith("projects/ehbo-test/messages/0:")
    [stored] = fcm_state.messages("tok-1")
    assert stored.name == name
    assert stored.target_field == "token"
    assert stored.message == {"token": "tok-1", "data": {"a": "b"}}
    assert fcm_state.messages("other") == []


def test_missing_authorization_is_google_unauthenticated(
    fcm_state: FcmServerState, http: httpx.Client, send_path: str
) -> None:
    response = http.post(send_path, json={"message": {"token": "tok-1"}})

    assert response.status_code == 401
    error = response.json()["error"]
    assert error["status"] == "UNAUTHENTICATED"
    assert error["code"] == 401
    assert "missing required authentication credential" in error["message"]
    assert fcm_state.messages() == []


def test_configured_access_token_and_project_are_enforced(
    fcm_state: FcmServerState, http: httpx.Client
) -> None:
    fcm_state.access_token, fcm_state.project_id = "right", "ehbo-test"
    try:
        body = {"message": {"token": "tok-1"}}
        wrong_token = post(
            http, "/v1/projects/ehbo-test/messages:send", body, Authorization="Bearer wrong"
        )
        wrong_project = post(
            http, "/v1/projects/other/messages:send", body, Authorization="Bearer right"
        )
        right = post(
            http, "/v1/projects/ehbo-test/messages:send", body, Authorization="Bearer right"
        )
    finally:
        fcm_state.access_token = fcm_state.project_id = None

    assert wrong_token.status_code == 401
    assert "invalid authentication credentials" in wrong_token.json()["error"]["message"]
    assert wrong_project.status_code == 403
    assert wrong_project.json()["error"]["status"] == "PERMISSION_DENIED"
    assert right.status_code == 200


EXPECTED_WIRE = {
    FaultKind.UNREGISTERED: (404, "NOT_FOUND"),
    FaultKind.INVALID_ARGUMENT: (400, "INVALID_ARGUMENT"),
    FaultKind.QUOTA_EXCEEDED: (429, "RESOURCE_EXHAUSTED"),
    FaultKind.UNAVAILABLE: (503, "UNAVAILABLE"),
    FaultKind.INTERNAL: (500, "INTERNAL"),
    FaultKind.SENDER_ID_MISMATCH: (403, "PERMISSION_DENIED"),
    FaultKind.THIRD_PARTY_AUTH_ERROR: (401, "UNAUTHENTICATED"),
}


@pytest.mark.parametrize("kind", list(FaultKind))
def test_fault_replies_use_google_error_bodies(
    kind: FaultKind, fcm_state: FcmServerState, http: httpx.Client, send_path: str
) -> None:
    fcm_state.fail_next(kind)

    response = post(http, send_path, {"message": {"token": "tok-1"}})

    status, grpc_status = EXPECTED_WIRE[kind]
    assert response.status_code == status
    assert response.json()["error"]["status"] == grpc_status
    assert response.json()["error"]["code"] == status
    assert fcm_error_code(response) == kind.value
    has_retry_after = kind is FaultKind.QUOTA_EXCEEDED
    assert ("retry-after" in response.headers) is has_retry_after
    assert fcm_state.messages() == []


EXPECTED_EXCEPTION: dict[FaultKind, type[exceptions.FirebaseError]] = {
    FaultKind.UNREGISTERED: messaging.UnregisteredError,
    FaultKind.INVALID_ARGUMENT: exceptions.InvalidArgumentError,
    FaultKind.QUOTA_EXCEEDED: messaging.QuotaExceededError,
    FaultKind.UNAVAILABLE: exceptions.UnavailableError,
    FaultKind.INTERNAL: exceptions.InternalError,
    FaultKind.SENDER_ID_MISMATCH: messaging.SenderIdMismatchError,
    FaultKind.THIRD_PARTY_AUTH_ERROR: messaging.ThirdPartyAuthError,
}


@pytest.mark.parametrize("kind", list(FaultKind))
def test_firebase_admin_raises_the_matching_exception(
    kind: FaultKind, fcm_state: FcmServerState, push_client: PushClient
) -> None:
    fcm_state.fail_next(kind)

    response = messaging.send_each([messaging.Message(fid="tok-1")], app=push_client.app)

    exception = response.responses[0].exception
    assert type(exception) is EXPECTED_EXCEPTION[kind]


def test_validate_only_validates_without_storing(
    fcm_state: FcmServerState, http: httpx.Client, send_path: str
) -> None:
    ok = post(http, send_path, {"message": {"token": "tok-1"}, "validate_only": True})
    bad = post(http, send_path, {"message": {"token": ""}, "validate_only": True})

    assert ok.status_code == 200
    assert ok.json()["name"] == "projects/ehbo-test/messages/fake_message_id"
    assert bad.status_code == 400
    assert fcm_state.messages() == []


# --- validation ----------------------------------------------------------------------------

INVALID_BODIES = {
    "not json": (b"{nope", ""),
    "no message": ({"validate_only": False}, "message"),
    "no target": ({"message": {"data": {"a": "b"}}}, "message"),
    "two targets": ({"message": {"token": "a", "topic": "b"}}, "message"),
    "empty token": ({"message": {"token": ""}}, "message.token"),
    "unknown field": ({"message": {"token": "a", "tokn": "b"}}, "message"),
    "unknown android field": (android(colapse_key="x"), "message.android"),
    "data not string": ({"message": {"token": "a", "data": {"n": 1}}}, "message.data"),
    "reserved data key": ({"message": {"token": "a", "data": {"from": "x"}}}, "message.data"),
    "ttl without s": (android(ttl="300"), "message.android.ttl"),
    "ttl over 28 days": (android(ttl="2419201s"), "message.android.ttl"),
    "negative ttl": (android(ttl="-1s"), "message.android.ttl"),
    "priority": (android(priority="urgent"), "message.android.priority"),
    "notification priority": (
        android(notification={"notification_priority": "LOUD"}),
        "message.android.notification.notification_priority",
    ),
    "apns priority": (
        {"message": {"token": "a", "apns": {"headers": {"apns-priority": "7"}}}},
        "message.apns.headers",
    ),
    "apns expiration": (
        {"message": {"token": "a", "apns": {"headers": {"apns-expiration": "soon"}}}},
        "message.apns.headers",
    ),
    "background at priority 10": (
        {
            "message": {
                "token": "a",
                "apns": {"headers": {"apns-push-type": "background", "apns-priority": "10"}},
            }
        },
        "message.apns.headers",
    ),
    "critical volume": (
        {
            "message": {
                "token": "a",
                "apns": {
                    "payload": {"aps": {"sound": {"name": "default", "critical": 1, "volume": 2}}}
                },
            }
        },
        "message.apns.payload.aps.sound.volume",
    ),
    "interruption level": (
        {"message": {"token": "a", "apns": {"payload": {"aps": {"interruption-level": "loud"}}}}},
        "message.apns.payload.aps.interruption-level",
    ),
    "webpush urgency": (
        {"message": {"token": "a", "webpush": {"headers": {"Urgency": "now"}}}},
        "message.webpush.headers",
    ),
}


@pytest.mark.parametrize("case", list(INVALID_BODIES))
def test_invalid_requests_get_invalid_argument(
    case: str, fcm_state: FcmServerState, http: httpx.Client, send_path: str
) -> None:
    body, field = INVALID_BODIES[case]

    response = post(http, send_path, body)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    violations = [
        violation["field"]
        for detail in error["details"]
        for violation in detail.get("fieldViolations", [])
    ]
    assert violations == [field]
    assert fcm_state.messages() == []


def test_payload_limit_is_4096_bytes_of_data_and_notification(
    fcm_state: FcmServerState, http: httpx.Client, send_path: str
) -> None:
    # key "k" (1 byte) + title (10 bytes) + value fill exactly 4096 bytes.
    def body(value_len: int) -> dict[str, Any]:
        return {
            "message": {
                "token": "tok-1",
                "notification": {"title": "0123456789"},
                "data": {"k": "x" * value_len},
            }
        }

    at_limit = post(http, send_path, body(4096 - 11))
    over = post(http, send_path, body(4096 - 10))

    assert at_limit.status_code == 200
    assert over.status_code == 400
    assert fcm_error_code(over) == "INVALID_ARGUMENT"
    assert "too big" in over.json()["error"]["message"]


def test_camel_case_field_names_are_accepted_like_proto_json(
    fcm_state: FcmServerState, http: httpx.Client, send_path: str
) -> None:
    body = android(collapseKey="incident-1", notification={"channelId": "ehbo_alerts"})

    assert post(http, send_path, body).status_code == 200


def test_ttl_bounds_are_inclusive(
    fcm_state: FcmServerState, http: httpx.Client, send_path: str
) -> None:
    for ttl in ("0s", "2419200s", "3.5s"):
        assert post(http, send_path, android(ttl=ttl)).status_code == 200, ttl


# --- fault injection -----------------------------------------------------------------------


def test_fail_next_counts_then_recovers(
    fcm_state: FcmServerState, http: httpx.Client, send_path: str
) -> None:
    fcm_state.fail_next(FaultKind.UNAVAILABLE, 2)

    statuses = [post(http, send_path, {"message": {"token": "t"}}).status_code for _ in range(3)]

    assert statuses == [503, 503, 200]
    assert fcm_state.faults() == []


def test_faults_can_target_tokens_and_last_until_cleared(
    fcm_state: FcmServerState, http: httpx.Client, send_path: str
) -> None:
    fcm_state.fail_next("INTERNAL", None, tokens=["tok-bad"])

    def status(token: str) -> int:
        return post(http, send_path, {"message": {"token": token}}).status_code

    assert [status("tok-bad"), status("tok-good"), status("tok-bad")] == [500, 200, 500]
    fcm_state.clear_faults()
    assert status("tok-bad") == 200


def test_invalid_messages_do_not_consume_faults(
    fcm_state: FcmServerState, http: httpx.Client, send_path: str
) -> None:
    fcm_state.fail_next(FaultKind.QUOTA_EXCEEDED, 1, retry_after_s=7)

    invalid = post(http, send_path, android(ttl="forever"))
    quota = post(http, send_path, {"message": {"token": "t"}})

    assert invalid.status_code == 400
    assert quota.status_code == 429
    assert quota.headers["retry-after"] == "7"


def test_unregistered_tokens_and_prefix(
    fcm_state: FcmServerState, http: httpx.Client, send_path: str
) -> None:
    fcm_state.unregister("tok-gone")
    fcm_state.unregistered_prefix = "bad-"
    try:
        gone = post(http, send_path, {"message": {"token": "tok-gone"}})
        prefixed = post(http, send_path, {"message": {"fid": "bad-123"}})
        fine = post(http, send_path, {"message": {"token": "tok-fine"}})
        fcm_state.reregister("tok-gone")
        back = post(http, send_path, {"message": {"token": "tok-gone"}})
    finally:
        fcm_state.unregistered_prefix = None

    assert [r.status_code for r in (gone, prefixed, fine, back)] == [404, 404, 200, 200]
    assert fcm_error_code(gone) == "UNREGISTERED"


def test_outage_until_cleared_and_for_a_duration(
    fcm_state: FcmServerState, http: httpx.Client, send_path: str
) -> None:
    def status() -> int:
        return post(http, send_path, {"message": {"token": "t"}}).status_code

    fcm_state.start_outage(retry_after_s=3)
    during = post(http, send_path, {"message": {"token": "t"}})
    fcm_state.end_outage()
    after = status()
    fcm_state.start_outage(duration_s=0.0)

    assert during.status_code == 503
    assert during.headers["retry-after"] == "3"
    assert after == 200
    assert status() == 200  # a zero-length outage is already over


# --- admin API -----------------------------------------------------------------------------


def test_admin_api_drives_faults_outage_latency_and_messages(
    fcm_state: FcmServerState, http: httpx.Client, send_path: str
) -> None:
    fault = http.post(
        "/_admin/faults", json={"kind": "UNREGISTERED", "count": 1, "tokens": ["tok-1"]}
    )
    assert fault.status_code == 200
    assert fault.json()["remaining"] == 1
    assert http.get("/_admin/faults").json()["faults"][0]["tokens"] == ["tok-1"]
    assert post(http, send_path, {"message": {"token": "tok-1"}}).status_code == 404
    assert post(http, send_path, {"message": {"token": "tok-1"}}).status_code == 200

    assert http.post("/_admin/unregistered", json={"tokens": ["tok-2"]}).status_code == 200
    assert post(http, send_path, {"message": {"token": "tok-2"}}).status_code == 404
    assert http.request("DELETE", "/_admin/unregistered").status_code == 200

    assert http.post("/_admin/outage", json={"duration_s": None}).status_code == 200
    assert post(http, send_path, {"message": {"token": "tok-2"}}).status_code == 503
    assert http.delete("/_admin/outage").status_code == 200
    assert http.put("/_admin/latency", json={"seconds": 0.05}).status_code == 200
    assert fcm_state.latency_s == 0.05
    assert post(http, send_path, {"message": {"token": "tok-2"}}).status_code == 200

    messages = http.get("/_admin/messages", params={"token": "tok-1"}).json()["messages"]
    assert [m["target"] for m in messages] == ["tok-1"]
    assert len(http.get("/_admin/messages").json()["messages"]) == 2
    stats = http.get("/_admin/stats").json()
    assert stats["outcomes"] == {"UNREGISTERED": 2, "OK": 2, "UNAVAILABLE": 1}
    assert http.delete("/_admin/messages", params={"token": "tok-1"}).json() == {"deleted": 1}
    assert [m.target for m in fcm_state.messages()] == ["tok-2"]
    assert http.post("/_admin/reset").status_code == 200
    assert fcm_state.messages() == []
    assert fcm_state.latency_s == 0


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/_admin/faults", {"count": 1}),
        ("POST", "/_admin/faults", {"kind": "NOPE"}),
        ("POST", "/_admin/faults", {"kind": "INTERNAL", "count": 0}),
        ("POST", "/_admin/faults", {"kind": "INTERNAL", "tokens": "tok"}),
        ("POST", "/_admin/unregistered", {}),
        ("PUT", "/_admin/latency", {"seconds": -1}),
        ("PUT", "/_admin/latency", {"seconds": "slow"}),
        # A count is whole: 1.5 is refused, not cut to 1 (the push service's rule too).
        ("POST", "/_admin/faults", {"kind": "INTERNAL", "count": 1.5}),
    ],
)
def test_admin_api_rejects_bad_input(
    method: str,
    path: str,
    body: dict[str, Any],
    fcm_state: FcmServerState,
    http: httpx.Client,
) -> None:
    response = http.request(method, path, json=body)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


# --- storage and threads -------------------------------------------------------------------


def test_storage_is_bounded_per_token_and_in_total() -> None:
    state = FcmServerState(per_token_cap=2, total_cap=4)
    for index in range(3):
        state.record("p", "token", "a", {"n": index})
    for index in range(3):
        state.record("p", "token", "b", {"n": index})

    assert [m.message["n"] for m in state.messages("a")] == [2]
    assert [m.message["n"] for m in state.messages("b")] == [1, 2]
    assert [(m.target, m.message["n"]) for m in state.messages()] == [("a", 2), ("b", 1), ("b", 2)]
    state.record("p", "token", "c", {"n": 0})
    state.record("p", "token", "c", {"n": 1})
    assert state.messages("a") == []
    assert state.stats()["targets"] == 2


def test_server_threads_get_their_own_free_ports() -> None:
    with FcmServerThread() as one, FcmServerThread() as two:
        assert one.port != two.port
        assert httpx.get(f"{two.url}/_admin/stats").status_code == 200
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{one.url}/_admin/stats")


# --- package -------------------------------------------------------------------------------


def test_the_push_package_holds_the_client_and_payloads_only() -> None:
    """Issue 13 #5: the emulator lives in `responders.emulators.fcm`, not beside the client.
    Issue 15 added the Web Push channel beside FCM's (its emulator is apart too)."""
    assert {m.name for m in pkgutil.iter_modules(responders.push.__path__)} == {
        "fcm",
        "payload",
        "channels",
        "endpoints",
        "vapid",
        "webpush",
    }
    assert not hasattr(responders.push, "FcmServerThread")
    # A worker importing the client must not pull in the emulator or its web server.
    code = (
        "import sys, responders.push, responders.delivery; "
        "print(sorted(m for m in ('uvicorn', 'starlette', 'responders.emulators') "
        "if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert loaded.stdout.strip() == "[]"


def test_the_emulator_runs_as_a_module_without_warnings() -> None:
    """`python -m responders.emulators.fcm` is what bench_push.py starts."""
    run = subprocess.run(
        [sys.executable, "-W", "error", "-m", "responders.emulators.fcm", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert "--unregistered-prefix" in run.stdout
    assert run.stderr == ""
