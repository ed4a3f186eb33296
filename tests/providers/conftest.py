"""Fixtures shared with the other suites live in tests/_emulator.py; they are imported here."""

from tests._emulator import clean_faults, emulator, emulator_factory, fake_plugin

__all__ = ["clean_faults", "emulator", "emulator_factory", "fake_plugin"]
