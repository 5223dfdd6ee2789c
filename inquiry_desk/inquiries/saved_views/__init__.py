"""Saved views: named inbox filters kept per user."""
