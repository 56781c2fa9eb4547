"""Command groups of `python -m ussd_server`."""
