"""Tests of the status service."""
