package secrets

import (
	"fmt"
	"strconv"
)

// writeRedacted is the body of every Format method in this package: whatever
// the verb (%v, %+v, %#v, %s, %x, %d, …) the output is the redacted form,
// quoted for %q. Width and precision are ignored on purpose: a precision such
// as %.3s must not be able to cut a prefix out of anything secret, and the
// redacted form holds nothing secret to begin with.
func writeRedacted(f fmt.State, verb rune, s string) {
	if verb == 'q' {
		s = strconv.Quote(s)
	}
	_, _ = f.Write([]byte(s))
}
