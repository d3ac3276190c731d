"""Server-rendered pages (Jinja2); the full application for each kind of user comes in a later release."""
