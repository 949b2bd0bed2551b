"""The switch's error types: who is at fault decides which one is raised."""

from __future__ import annotations


class SwitchError(Exception):
    """The switch cannot do what was asked (unknown message id, unusable store or setting)."""


class AuthenticationError(SwitchError):
    """The presented credential is unknown or revoked: nothing was accepted or routed."""


class ConfigError(SwitchError):
    """switch.toml cannot be used; the message names the file and the key."""


class CredentialError(SwitchError):
    """A credential cannot be issued, revoked or found as asked."""
