"""Binds every scenario under features/background/."""

from pytest_bdd import scenarios

scenarios("background")
