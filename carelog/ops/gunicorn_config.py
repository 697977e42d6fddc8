"""How gunicorn serves carelog on a ward: `gunicorn --config python:carelog.ops.gunicorn_config`.

Threaded workers, so that a tablet that stops sending halfway through a form holds one thread,
not a whole worker: with 4 workers of 8 threads, 8 stalled uploads leave 24 threads serving the
other nurses, and each stalled upload is cut off after CARELOG_BODY_SECONDS (10 s) by the app.
A sync worker would be held for gunicorn's whole 30 s timeout.
"""

worker_class = "gthread"
workers = 4
threads = 8
timeout = 30  # a worker silent this long is restarted; threads keep the worker talking
graceful_timeout = 10
keepalive = 5
