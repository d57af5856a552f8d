// Package allocs bounds what one call allocates, for fuzz targets that
// must show no input makes agentkeys allocate without bound. Only tests
// import it.
package allocs

import (
	"runtime"
	"testing"
)

// Within runs fn and fails t if the process allocated more than max bytes
// meanwhile. It counts every goroutine's allocations (the fuzz worker runs
// one input at a time, so they are fn's and little else): max should
// leave room for background work, and catch a blow-up that grows with
// what an input claims rather than with its length.
func Within(t testing.TB, max uint64, fn func()) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > max {
		t.Fatalf("allocated %d bytes, more than the bound of %d", got, max)
	}
}
