"""Open311 GeoReport v2: services, requests, and mySociety's updates."""
