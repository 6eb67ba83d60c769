"""The scheduler: takes the newsletters' crons and the clock, gives pipeline calls keyed by slot;
only the process holding the leader lock fires them.
"""
