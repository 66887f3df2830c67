"""Checks the project runs on itself (make lint), not shipped in the package."""
