"""Test support that must not ship in the wheel: a synthetic voice, a fake sound card, clock
and keys, and a private PulseAudio server. Tests import it as `support.*` (pytest puts tests/
on sys.path); scripts put the repository root on sys.path and import `tests.support.*`."""
