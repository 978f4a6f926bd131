"""Binds every scenario under features/host/."""

from pytest_bdd import scenarios

scenarios("host")
