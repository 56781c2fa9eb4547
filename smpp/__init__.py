"""The SMS channel: asyncio SMPP client, campaigns, two-way SMS registration."""
