"""The one-stop profile: request validation, person resolution, decision, fetch,
masking, audit, response (DESIGN.md flow 2)."""
