package bound

import (
	"strings"
	"testing"
)

func TestQuote(t *testing.T) {
	long := "0x" + strings.Repeat("7", 1<<20)
	tests := []struct{ name, in, want string }{
		{"short", "abc", `"abc"`},
		{"exactly the prefix", strings.Repeat("a", Prefix), `"` + strings.Repeat("a", Prefix) + `"`},
		{"long says its length", long, `"0x` + strings.Repeat("7", Prefix-2) + `…" (1048578 bytes)`},
		{"bidi escaped", "a\u202eb", `"a\u202eb"`},
		{"control escaped", "a\x1b[2Jb", `"a\x1b[2Jb"`},
		{"cut on a rune boundary", strings.Repeat("a", Prefix-1) + "é" + "zz", `"` + strings.Repeat("a", Prefix-1) + `…" (43 bytes)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Quote(tt.in); got != tt.want {
				t.Errorf("Quote = %s, want %s", got, tt.want)
			}
			if len(Quote(tt.in)) > 2*Prefix+40 {
				t.Errorf("Quote is %d bytes", len(Quote(tt.in)))
			}
		})
	}
}

func TestText(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"hello", 10, "hello"},
		{"hello world", 8, "hello…"},
		{"ééééé", 6, "é…"},
		{"hello", 2, "he"},
	}
	for _, tt := range tests {
		got := Text(tt.in, tt.n)
		if got != tt.want {
			t.Errorf("Text(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
		if len(got) > tt.n {
			t.Errorf("Text(%q, %d) is %d bytes", tt.in, tt.n, len(got))
		}
	}
}

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text, ünïcode and emoji 🙂", "plain text, ünïcode and emoji 🙂"},
		{"evil\u202Etxt.exe", `evil\u202etxt.exe`},
		{"\u2066isolate\u2069", `\u2066isolate\u2069`},
		{"zero\u200bwidth\ufeff", `zero\u200bwidth\ufeff`},
		{"line\u2028sep\u2029", `line\u2028sep\u2029`},
		{"\x1b]0;title\x07", `\x1b]0;title\a`},
		{"cr\rlf\n", `cr\rlf\n`},
		{"bad\xffutf8", `bad\xffutf8`},
		{"\u0085next line", `\u0085next line`},
	}
	for _, tt := range tests {
		if got := Escape(tt.in); got != tt.want {
			t.Errorf("Escape(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestMessage(t *testing.T) {
	long := strings.Repeat("A", 1000)
	tests := []struct{ in, want string }{
		{"plain words", "plain words"},
		{"provided data '" + long + "' doesn't match type 'address'", "provided data '" + long[:Prefix] + "… (1000 bytes)' doesn't match type 'address'"},
		{`invalid integer "` + long + `"`, `invalid integer "` + long[:Prefix] + `… (1000 bytes)"`},
		{`unclosed "` + long, `unclosed "` + long[:Prefix] + `… (1000 bytes)`},
		{`short "x" and 'y'`, `short "x" and 'y'`},
	}
	for _, tt := range tests {
		if got := Message(tt.in, 300); got != tt.want {
			t.Errorf("Message(%.60q…) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := Message(strings.Repeat("word ", 1000), 300); len(got) > 300 {
		t.Errorf("Message is %d bytes", len(got))
	}
}
