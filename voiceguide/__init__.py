"""voiceguide: offline, voice-guided audio sessions from plain-text routine scripts."""

__version__ = "0.1.0"
