"""Pure metric functions (arrays in, numbers out)."""
