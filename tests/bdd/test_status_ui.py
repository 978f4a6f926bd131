"""Binds every scenario under features/status-ui/."""

from pytest_bdd import scenarios

scenarios("status-ui")
