"""The unit's experiments: each module computes one section's numbers and figures and prints
nothing itself."""
