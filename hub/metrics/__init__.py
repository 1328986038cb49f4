"""Figures computed from the audit log only: sharing rates, latency (REQUIREMENTS.md 9)."""
