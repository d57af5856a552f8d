// Package bound keeps text that someone else controls (an agent's
// parameters, a header, a node's error) short and inert before it reaches
// a refusal reason, an error, a log line, a response or an audit record.
//
// It is the one bounded-quoting helper of agentkeys: a value is quoted
// with at most a short prefix and, when cut, how long it was; free text is
// cut on a rune boundary; text for a terminal has every control, format
// (bidi overrides such as U+202E, zero-width characters) and separator
// character escaped. It imports nothing internal, so every package may
// import it, the pure ones (policy, audit) included.
package bound

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Prefix is how many bytes of a value Quote keeps.
const Prefix = 40

// Quote returns v quoted as Go quotes strings (control, bidi and other
// unprintable characters escaped), keeping at most Prefix bytes of it;
// a value that was cut says how long it was:
//
//	"0x1234…" (1048576 bytes)
func Quote(v string) string { return QuoteN(v, Prefix) }

// QuoteN is Quote keeping at most n bytes.
func QuoteN(v string, n int) string {
	if len(v) <= n {
		return strconv.Quote(v)
	}
	return fmt.Sprintf("%s (%d bytes)", strconv.Quote(cut(v, n)+"…"), len(v))
}

// Text returns s cut to at most n bytes on a rune boundary, ending in "…"
// when it was cut (the ellipsis counted in n). It escapes nothing: use it
// for text that is quoted or escaped later, or Escape it.
func Text(s string, n int) string {
	const ellipsis = "…"
	if len(s) <= n {
		return s
	}
	if n < len(ellipsis) {
		return cut(s, n)
	}
	return cut(s, n-len(ellipsis)) + ellipsis
}

// cut returns the longest prefix of s of at most n bytes that ends on a
// rune boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Escape returns s with what a terminal or a text viewer would interpret
// written as Go escapes: control characters (\x1b, \r, \n), format
// characters (the bidi overrides U+202A–U+202E and isolates U+2066–U+2069,
// zero-width joiners, the byte order mark), line and paragraph separators
// and invalid UTF-8 (\xff). Everything else is kept as it is, so plain
// text reads unchanged.
func Escape(s string) string {
	clean := true
	for _, c := range s {
		if unsafeRune(c) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		c, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unsafeRune(c):
			q := strconv.QuoteRuneToASCII(c)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// unsafeRune reports whether c may change how the text around it is shown.
func unsafeRune(c rune) bool {
	return c == utf8.RuneError || unicode.IsControl(c) || unicode.Is(unicode.Cf, c) ||
		unicode.Is(unicode.Zl, c) || unicode.Is(unicode.Zp, c)
}

// Message returns a library's error message (which may quote a value it
// was given, 'like this' or "like this") with every quoted run longer
// than Prefix cut to its prefix and its length, and the whole cut to n
// bytes, so the words around the value survive and the value does not.
func Message(msg string, n int) string {
	var b strings.Builder
	for len(msg) > 0 {
		i := strings.IndexAny(msg, `'"`)
		if i < 0 {
			b.WriteString(msg)
			break
		}
		b.WriteString(msg[:i+1])
		q := msg[i]
		rest := msg[i+1:]
		j := strings.IndexByte(rest, q)
		if j < 0 {
			j = len(rest)
		}
		if inner := rest[:j]; len(inner) > Prefix {
			fmt.Fprintf(&b, "%s… (%d bytes)", cut(inner, Prefix), len(inner))
		} else {
			b.WriteString(inner)
		}
		if j < len(rest) {
			b.WriteByte(q)
			j++
		}
		msg = rest[j:]
		if b.Len() > n {
			break
		}
	}
	return Text(b.String(), n)
}
