"""The hub's side of the department adapters: clients, deadlines, retries, breakers."""
