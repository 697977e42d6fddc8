"""The web blueprints; each view declares the roles that may use it."""
