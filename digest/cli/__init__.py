"""The `digest` command: takes the command line and config.toml, gives calls into the flows.

main.py is the group and registers the commands the other modules define.
"""
