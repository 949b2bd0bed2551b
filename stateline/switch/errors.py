"""The switch's error types: who is at fault decides which one is raised."""

from __future__ import annotations

from ..errors import ServiceError, Side


class SwitchError(ServiceError):
    """The switch cannot do what was asked (unknown message id, unusable store or setting)."""

    code = "switch-error"


class AuthenticationError(SwitchError):
    """The presented credential is unknown or revoked: nothing was accepted or routed."""

    code, status, side = "unauthenticated", 401, Side.REQUESTER


class ConfigError(SwitchError):
    """switch.toml cannot be used; the message names the file and the key."""

    code, status, side = "config-error", 422, Side.REQUESTER


class CredentialError(SwitchError):
    """A credential cannot be issued, revoked or found as asked."""

    code, status, side = "credential-error", 422, Side.REQUESTER
