"""Sending what the outbox owes: leased rows, WeChat's answers, retries and fallbacks."""
