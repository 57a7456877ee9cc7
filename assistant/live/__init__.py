"""Live calls: transcript segments in, unasked cards and compliance alerts out, a note at the end."""
