"""Fixes: configuration edits, the commands that make them, verification and safe application."""
