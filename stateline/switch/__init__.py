"""The interstate switch: sender authentication, routing, multi-state fan-out and merge,
status messages, store-and-forward and the traffic log. It never looks inside DMV data."""

from .config import SwitchConfig
from .errors import AuthenticationError, ConfigError, CredentialError, SwitchError
from .routing import Service
from .submissions import UnknownMessage
from .switch import Switch
from .views import FieldView, ResponseView, Submission

__all__ = [
    "AuthenticationError",
    "ConfigError",
    "CredentialError",
    "FieldView",
    "ResponseView",
    "Service",
    "Submission",
    "Switch",
    "SwitchConfig",
    "SwitchError",
    "UnknownMessage",
]
