"""The registries of who provides care: organisations and professionals."""
