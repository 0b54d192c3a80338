"""The Twilio kind: Twilio's Messaging API, status callbacks and replies (SPEC §3.5, §6.6)."""
