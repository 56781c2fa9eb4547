"""USSD *119# HTTP endpoints, the operator API and the command line."""
