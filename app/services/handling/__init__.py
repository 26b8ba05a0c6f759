"""Handling a ticket: the one way to change it (`act`), the notices it owes, the chat's ticket commands."""
