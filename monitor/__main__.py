"""`python -m monitor` runs the `callsla` command."""

import sys

from monitor.cli import main

sys.exit(main())
