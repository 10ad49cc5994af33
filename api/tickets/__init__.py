"""After-sales tickets: repairs, maintenance, leftover items and complaints, with their clocks."""
