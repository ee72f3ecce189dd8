"""alias-service: turns free-text mentions into canonical entity IDs."""
