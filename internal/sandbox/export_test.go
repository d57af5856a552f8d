package sandbox

// TestEpoch lets the external tests start at the same shifted time.
var TestEpoch = testEpoch
