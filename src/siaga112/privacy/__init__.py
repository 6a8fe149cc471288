"""Personal data: retention of callers' data."""
