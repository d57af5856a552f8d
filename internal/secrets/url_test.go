package secrets

import (
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://mainnet.infura.io/v3/0123456789abcdef0123456789abcdef", "https://mainnet.infura.io/…"},
		{"https://eth.example.com/?apikey=s3cr3tvalue", "https://eth.example.com/…"},
		{"https://user:s3cr3tvalue@node.example.com:8545", "https://node.example.com:8545"},
		{"http://127.0.0.1:8545", "http://127.0.0.1:8545"},
		{"http://127.0.0.1:8545/", "http://127.0.0.1:8545"},
		{"wss://node.example.com/ws/s3cr3tvalue", "wss://node.example.com/…"},
		{"s3cr3tvalue", "[redacted URL]"},
		{"", "[redacted URL]"},
	}
	for _, tt := range tests {
		if got := RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if strings.Contains(RedactURL(tt.in), "s3cr3t") {
			t.Errorf("RedactURL(%q) keeps the secret", tt.in)
		}
	}
}

func TestRedactURLs(t *testing.T) {
	in := `read chain id: Post "https://user:pw@mainnet.example.io/v3/s3cr3tvalue?x=1": dial tcp 10.0.0.1:443: connection refused`
	got := RedactURLs(in)
	want := `read chain id: Post "https://mainnet.example.io/…": dial tcp 10.0.0.1:443: connection refused`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
