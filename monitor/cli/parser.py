"""argparse's parser with a terminal-safe error line: a bad argument is shown, never obeyed.

argparse repeats the offending argument in its one error line (`unrecognized arguments: ...`,
`invalid choice: ...`); an ANSI escape or a newline pasted there would run in the terminal or
forge a second line. Every sub-command's parser is this class too (argparse makes
sub-parsers of the parent's type).
"""

from __future__ import annotations

import argparse
from typing import NoReturn

from monitor.core.terminal_text import for_terminal


class CallslaArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """Usage, then one `PROG: error: ...` line with control characters escaped; exit 2."""
        super().error(for_terminal(message))
