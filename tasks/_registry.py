"""Entry point for Inspect: importing this module registers every task as `tasks/<name>`."""
