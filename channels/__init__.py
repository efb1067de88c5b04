"""Chat platforms behind one small interface (see :mod:`channels.base`)."""
