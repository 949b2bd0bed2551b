"""`stateline policy`: a state's sharing policy: presets, checks, tests, apply, explain."""

from __future__ import annotations

import typer

app = typer.Typer(help="A state's sharing policy in Cedar.", no_args_is_help=True)

from . import policy_cases, policy_state, policy_whatif  # noqa: E402,F401  (each adds its commands to app)
