"""callsla monitor: the PBX's events turned into the Client Charter's telephone figures."""

__version__ = "0.1.0"
