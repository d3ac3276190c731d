"""The HTTP API (FastAPI; its OpenAPI document is the contract) and the web pages' routes."""
