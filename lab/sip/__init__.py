"""Real SIP user agents for the lab: SIPp phones and callers against the lab PBX over PJSIP."""
