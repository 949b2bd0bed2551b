"""CLI command groups; each turns a room's calls into terminal input and output, nothing more."""
