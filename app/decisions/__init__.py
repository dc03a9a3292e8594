"""Credit decisions: request and response schemas, storage, and the orchestration of one decision."""
