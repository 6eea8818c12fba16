"""Reusable pieces: pure functions that turn tables into components or figures."""
