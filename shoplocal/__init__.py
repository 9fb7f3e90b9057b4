"""`make run` and the tests' view of AWS, never deployed: the template reader, a local API
Gateway (`shoplocal.gateway`) and an embedded AWS store (`shoplocal.store`)."""
