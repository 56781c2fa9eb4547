"""Every layer's Redis key names under one test prefix (tests look at all of them)."""

from __future__ import annotations

from dataclasses import dataclass

from dialogue.keys import DialogueKeys
from gateways.keys import GatewayKeys
from registration.keys import RegistryKeys
from smpp.keys import SmsKeys
from web.keys import WebKeys
from whatsapp.keys import WhatsAppKeys


@dataclass(frozen=True)
class AllKeys(RegistryKeys, DialogueKeys, SmsKeys, GatewayKeys, WebKeys, WhatsAppKeys):
    """The union of the layers' key classes (they share only ``prefix``)."""
