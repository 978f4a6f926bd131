"""Binds every scenario under features/smoke/."""

from pytest_bdd import scenarios

scenarios("smoke")
