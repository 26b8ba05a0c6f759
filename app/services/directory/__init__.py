"""Who and where: riders and staff, invites and console access, API keys, grids and their import."""
