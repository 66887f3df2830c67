"""The `callsla` command line: argument parsing that calls domain functions, nothing more."""
