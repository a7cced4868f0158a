"""The commented starter routine that `voiceguide new` writes."""

STARTER = '''+++
# Front matter (TOML). Only "title" is required; the rest shows the defaults or examples.
title = "My hand routine"
description = "A short routine I wrote myself."
suits = "Anyone who wants a few quiet minutes for their hands."
caution = "Recent hand surgery, a fracture, open wounds or a hand condition: check with your doctor first."
speed = 1.0          # narration tempo, 0.5 (slow) to 2.0 (fast); pauses and holds do not change
voice = "default"
ambient = "brown"    # white, pink, brown, drone, ocean, rain, stream, wind, fire, a sound file, or "none"
# length = "5m"      # uncomment to fit the whole session to exactly this length
wait = "30s"         # how long a [wait] lasts in a file (live play waits for space or n)

[pronounce]          # words the voice should say differently
effleurage = "eff-luh-rahzh"
+++

<!-- Everything between these marks is a comment and is never spoken. -->

# Welcome
Find a comfortable seat and let your shoulders drop.
If anything hurts, stop and rest your hands. [pause 3s]

# Warm up
Put a little oil or lotion in one palm, and take your time. [wait]
<!-- [wait]: a step done in the listener's own time. Live play waits there until space or n;
     a file waits 30 s (the wait setting above, or [wait 60s]), then a soft chime. -->

Rub your palms together briskly to warm them. [hold 30s]

## Effleurage {sides}
<!-- {sides} repeats this section for the left hand, then the right. -->
Rest your {side} hand on your lap.
With your {other} palm, stroke slowly from the fingertips up to the wrist. [hold 45s]

# Finish {silent}
<!-- {silent}: this heading is a chapter, but its title is not read aloud. -->
[breathe 3]
Shake your hands out gently. [chime]

Let your hands rest in your lap. Well done. {pace 0.85}
<!-- {pace 0.85} at the end of a paragraph: it is spoken at 0.85 times the session's speed. -->
'''
