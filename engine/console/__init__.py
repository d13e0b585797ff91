"""The terminal side of cli.py: the two rich consoles and how errors reach them (streams), turning
option values into engine inputs (options), the options commands share (params), the command group
and --help in the user's language (group, localize, help_zh), the progress bar (progress) and the
tables and lines each command prints (views). The top layer: may import any subpackage; nothing in
engine imports it."""
