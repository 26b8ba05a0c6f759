"""For the riders: rest stations, points for reports that led to action, hazard alerts."""
