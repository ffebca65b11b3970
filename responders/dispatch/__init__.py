"""Dispatch: from an incident to the right volunteers, by walking time, with AEDs, in waves."""
