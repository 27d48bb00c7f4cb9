"""Record sync: pushes of client mutations, pulls by revision cursor, live change streams."""
