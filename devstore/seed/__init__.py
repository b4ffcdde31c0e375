"""Seeding: history written straight into the database (no webhooks: it already happened)."""
