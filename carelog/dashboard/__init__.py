"""The care manager's home page: what needs attention today, and care planned against given."""
