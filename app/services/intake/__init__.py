"""Intake: a rider's photos, location and words become a ticket (drafts, additions, duplicates, the photo pipeline)."""
