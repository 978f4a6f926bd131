"""Binds every scenario under features/platform/."""

from pytest_bdd import scenarios

scenarios("platform")
