"""The web screens: operator console, volunteer alert screen, citizen report page, demo phone."""

from responders.web.pages import router

__all__ = ["router"]
