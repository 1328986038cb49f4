"""Department alerts (REQUIREMENTS.md 8): polled from the adapters, resolved to persons,
delivered to the callers whose jurisdiction and policy cover the person (docs/alerts.md)."""
