"""Pages people use: the sign-in, the driver's phone page and the dispatcher's board."""
