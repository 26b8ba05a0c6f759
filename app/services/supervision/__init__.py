"""Supervision above the grid: the ladder, deadline sweeps and escalation, 吹哨, and the dashboard's indicators."""
