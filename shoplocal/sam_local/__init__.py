"""`sam local start-api` against the embedded store of `make run` (`make sam-local`), and CI's
proof that it works (`make sam-local-test`): a Docker daemon, the Lambda base image (or, offline,
a stand-in built from this machine's Python), the environment SAM cannot work out from the
template, a relay that lets the containers reach the store, and a walk through the API via SAM."""
