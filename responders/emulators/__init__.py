"""Local stand-ins for the external services, for the demo and the tests (not for production).

`fcm`: a server that speaks the FCM HTTP v1 wire protocol, so firebase-admin's real client
(`responders.push`) runs unmocked against it. `webpush`: a push service that speaks RFC 8030
and checks RFC 8292 VAPID, so pywebpush's real requests reach it (and the tests can decrypt
them with the subscription keys they made).
"""

from __future__ import annotations

__all__: list[str] = []
