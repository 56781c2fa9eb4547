"""The dialogue engine: runs the menus in `menus/` for any channel."""
