package allocs

import "testing"

// sink keeps the allocation below from being optimised away.
var sink []byte

func TestWithin(t *testing.T) {
	Within(t, 1<<20, func() { sink = make([]byte, 1<<10) })
	// A blow-up is caught: run the check on a recorder, not on t.
	rec := &recorder{TB: t}
	func() {
		defer func() { recover() }()
		Within(rec, 1<<20, func() { sink = make([]byte, 8<<20) })
	}()
	if !rec.failed {
		t.Fatal("an 8 MB allocation passed a 1 MB bound")
	}
}

// recorder notes a Fatalf instead of failing the test, and stops the
// check's goroutine as Fatalf would.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(string, ...any) {
	r.failed = true
	panic("fatal")
}
