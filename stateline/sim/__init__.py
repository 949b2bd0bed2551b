"""Synthetic nations: agencies across the country, residents, vehicles and histories.

Everything here is invented and deterministic for a seed; no real person's data, no real faces.
"""
