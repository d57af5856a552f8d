package secrets

import (
	"net/url"
	"regexp"
	"strings"
)

// RedactURL returns u with everything after the host replaced by "/…" and
// any user information removed: node providers put API keys in the path
// (/v3/KEY), the query (?apikey=KEY) or the user information, while the
// scheme and host say which node is meant. A string that does not parse
// as an absolute URL is returned as "[redacted URL]".
func RedactURL(u string) string {
	p, err := url.Parse(strings.TrimSpace(u))
	if err != nil || p.Scheme == "" || p.Host == "" {
		return "[redacted URL]"
	}
	out := p.Scheme + "://" + p.Host
	if (p.Path != "" && p.Path != "/") || p.RawQuery != "" || p.Fragment != "" || p.Opaque != "" {
		out += "/…"
	}
	return out
}

// urlInText finds URLs in free text such as an error message: a scheme,
// "://" and everything up to a space or a quote.
var urlInText = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>]+`)

// RedactURLs returns s with every URL in it passed through RedactURL, for
// error messages that may quote an upstream node's URL (net/http's errors
// do: Post "https://host/v3/KEY": ...).
func RedactURLs(s string) string {
	return urlInText.ReplaceAllStringFunc(s, RedactURL)
}
