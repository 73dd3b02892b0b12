"""Orders: a bundle of carrier quotes and service packages bound, paid and issued together."""
