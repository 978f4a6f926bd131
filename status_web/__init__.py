"""status_web."""
