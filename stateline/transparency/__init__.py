"""The transparency room: public statistics from the audit rollups, small-count protection,
and reports anyone can check against the signed audit log. It reads the log, never writes it."""
