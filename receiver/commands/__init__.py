"""CLI subcommands: one module each, marked with `COMMAND = "<name>"`, with
`add_parser(subparsers)` and `run(args) -> int`; unmarked modules here are their helpers."""
