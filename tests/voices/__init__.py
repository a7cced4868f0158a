"""Tests of the narration layer (voiceguide.voices)."""
