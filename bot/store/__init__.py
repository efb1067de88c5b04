"""Reading and writing the domain objects. Functions take a Connection so that
callers choose the transaction (``with engine.begin() as conn``)."""
