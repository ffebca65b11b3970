"""The HTTP layer: thin routers that parse, call a domain function and serialise."""

from responders.api.app import create_app

__all__ = ["create_app"]
