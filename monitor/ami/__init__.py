"""Asterisk Manager Interface (AMI): message framing, an asyncio client, a kept connection."""

from monitor.ami.client import AmiClient, AmiError
from monitor.ami.kept_connection import KeptAmiConnection
from monitor.ami.message import AmiMessage, parse_message

__all__ = ["AmiClient", "AmiError", "AmiMessage", "KeptAmiConnection", "parse_message"]
