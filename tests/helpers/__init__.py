"""Test helpers by what they hold: pages (what a person sees), records (what the database
holds), commands (the real CLI)."""
