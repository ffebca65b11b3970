"""Delivery: the outbox worker that turns committed alerts into pushes, durably."""

from responders.delivery.worker import OutboxWorker

__all__ = ["OutboxWorker"]
