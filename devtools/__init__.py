"""Development helpers used by `make run` (private Redis, dev secrets)."""
