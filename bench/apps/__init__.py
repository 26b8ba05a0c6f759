"""Tiny reference apps the webhook benchmark serves beside gridbot (uvicorn, same settings)."""

REPLY = "已受理！工单号 #1234（道路积水），已派往枫苑一网格（张伟）。处理进展会通知您。"
"""A passive reply of the length of gridbot's acknowledgements, for the apps without one."""
