"""Tiny reference apps the webhook benchmark serves beside gridbot (uvicorn, same settings)."""
