"""Channel variables that asterisk_conf/'s dialplan, the AGI scripts and the monitor share.

The monitor reads them from AMI `VarSet` events, so it needs no MQTT to know them.
"""

# Set when a caller starts waiting for an officer (value: the officer's extension), before the
# announcement: the officer leg's answer wait starts here (docs/architecture.md).
OFFICER_WAIT_VARIABLE = "CALLSLA_OFFICER_WAIT"
# Set first thing in [callsla-officer] (value: the extension), before the flow answers: a
# Local channel that a forward (302) or a features transfer (*2) dialled is running the
# officer flow itself, so its leg is the caller's one leg, not a second one.
OFFICER_FLOW_VARIABLE = "CALLSLA_OFFICER_FLOW"
# Set on entry by a site's dialplan: 1 marks a customer call, 0 a staff call, whatever the
# context (monitor/ingest/customers.py).
CUSTOMER_VARIABLE = "CALLSLA_CUSTOMER"
