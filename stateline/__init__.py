"""Stateline: a state-controlled interstate network for driver and vehicle record queries."""

__version__ = "0.1.0"
