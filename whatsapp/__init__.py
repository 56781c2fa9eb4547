"""The WhatsApp channel: Business Cloud API webhooks in, Graph API sends out (docs/whatsapp.md)."""
