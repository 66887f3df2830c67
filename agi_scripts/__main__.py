"""`python -m agi_scripts` = `callsla agi-server`."""

import sys

from monitor.cli.main import main

sys.exit(main(["agi-server", *sys.argv[1:]]))
