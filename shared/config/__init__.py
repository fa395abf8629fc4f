"""Configuration: models, YAML with line numbers, loading and its rules, schema. Pure."""
