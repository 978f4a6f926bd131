"""Binds every scenario under features/core/."""

from pytest_bdd import scenarios

scenarios("core")
