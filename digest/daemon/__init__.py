"""The scheduler: takes the newsletters' crons and the clock, gives flow calls keyed by slot;
only the process holding the leader lock fires them.
"""
