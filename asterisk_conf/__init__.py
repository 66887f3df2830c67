"""The PBX side as package data: the Asterisk templates, the prompt texts and the sample
directory of officers, found beside this file wherever callsla is installed (not only in a
checkout), so `pip install .` carries everything a site needs."""

from pathlib import Path

CONF_DIR = Path(__file__).resolve().parent
OFFICERS_FILE = CONF_DIR / "officers.toml"
PROMPT_TEXTS_FILE = CONF_DIR / "prompts" / "texts.toml"
LOCAL_SKELETONS_DIR = CONF_DIR / "local_skeletons"
