"""Outbound webhooks: the hooks operators add, and the deliveries ticket changes owe them."""
