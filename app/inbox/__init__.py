"""The path of an inbound message: dedup in the inbox, parking and late answers, the ack
budget, copies in flight, failure records (and the spool when the database is down).

The wiring (app/web/main.py) hands it the dispatcher's messages; handlers never import it.
"""
