"""Binds every scenario under features/bootstrap-cli/."""

from pytest_bdd import scenarios

scenarios("bootstrap-cli")
