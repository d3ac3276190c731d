"""The command line: `custody --help` lists every command."""
