"""Local stand-ins for the external services, for the demo and the tests (not for production).

`fcm`: a server that speaks the FCM HTTP v1 wire protocol, so firebase-admin's real client
(`responders.push`) runs unmocked against it.
"""

from __future__ import annotations

__all__: list[str] = []
