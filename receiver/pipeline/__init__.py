"""The pipeline a stored webhook runs through, as named stages (see `stages`), and the
actions people and tokens take on incidents."""
