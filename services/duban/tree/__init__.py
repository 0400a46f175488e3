"""分解 and roll-up: a tenant splits a received assignment into parts for the units below it, to any depth,
and every change to a part's units travels up as an event, so each level sees its own subtree and the
origin sees the whole tree — built from events, never from another tenant's tables."""
