"""A module of the user's for tests/test_module_state.py: globals a calling process changes at
run time, read by functions that worker processes import by name."""

import threading

import state_config

RATE = 1.0
SETTINGS = {"offset": 0.0}
LOCK = threading.Lock()
opened = 0


class Point:
    def __init__(self, x):
        self.x = x

    def __eq__(self, other):
        return isinstance(other, Point) and self.x == other.x

    def scaled(self):
        return self.x * RATE


def scaled(x):
    return x * RATE


def _times_rate(x):
    return x * RATE


def through_a_helper(x):
    return _times_rate(x) + SETTINGS["offset"]


def through_another_module(x):
    return x * state_config.FACTOR


def point(x):
    return Point(x * RATE)


def is_point(p):
    return isinstance(p, Point)


def locked(x):
    with LOCK:
        return x * RATE


def opened_once(x):
    """The worker's own state: set on a worker's first element, kept from call to call."""
    global opened
    if not opened:
        opened += 1
    return opened


def make_scaler(offset):
    """A function sent by value (defined inside another): the helpers it calls are sent by
    reference and read the module's globals in the worker."""
    return lambda x: _times_rate(x) + offset
