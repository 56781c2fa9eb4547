"""The registration domain shared by the USSD and SMS channels."""
