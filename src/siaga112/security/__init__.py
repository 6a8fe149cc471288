"""Defences that apply to every request: security headers, rate limits."""
