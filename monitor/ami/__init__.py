"""Asterisk Manager Interface (AMI): message framing and an asyncio client."""

from monitor.ami.client import AmiClient, AmiError
from monitor.ami.message import AmiMessage, parse_message

__all__ = ["AmiClient", "AmiError", "AmiMessage", "parse_message"]
