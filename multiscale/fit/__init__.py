"""Fitting an experiment to a recording (``multiscale fit``): the digital twin.

Modules, one concern each:

- ``signals.py``: ``SensorData``, one sensor kind's signals as the fit compares them;
- ``batch.py``: many masses-only variants of one experiment in one compiled call.
"""
