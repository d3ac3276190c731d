"""Persistence: SQLAlchemy 2 models, Alembic migrations, and the unit of work every command runs in."""
