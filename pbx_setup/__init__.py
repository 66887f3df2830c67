"""Putting callsla onto a site's Asterisk: `callsla pbx install` and `callsla pbx check`."""
