"""gunicorn's settings for the portal (read from the working directory: the Dockerfile, the
compose file's web service and ``make bench-web`` all start gunicorn here).

Threads, not only processes: a sync worker answers one request at a time, so 200 open
request pages polling every 2 s waited behind any slow page (a People search, a confirm
page's counts) that held one of the three workers; with threads a poll is answered beside
it. Measured with ``python -m bench web --students 600000`` on 2 busy cores: progress at p95
from 1,098 ms (3 sync workers) to 545 (3 x 4 threads), People from 1,116 to 729 (README,
"The web tier under load"). Each thread holds its own database connection while it serves:
workers x threads connections (README, "Running a state", Connections).

The keep-alive outlasts the pauses of a page between its requests (the request page polls
every 2 s), so gunicorn does not close a connection just as the browser or the load
balancer sends on it (at gunicorn's 2 s default, 17 of 1,515 form posts failed that way).
"""

workers = 3
threads = 4
keepalive = 5
accesslog = "-"
