"""Pure pipeline stages: reading, extraction, cleaning, dedup signatures, entities. No Prefect here."""
