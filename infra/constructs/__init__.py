"""Small constructs that the stack composes; each exposes what the others need as attributes."""
