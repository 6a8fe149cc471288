"""The shift hand-over log: open incidents, notes and what the next shift must do."""
