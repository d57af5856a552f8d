package secrets

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"testing"

	"golang.org/x/crypto/scrypt"
)

// encodings returns the spellings of b that must never appear in output:
// hex (lower, upper, with and without 0x), base64 (std, url, raw) and the
// decimal integer.
func encodings(b []byte) []string {
	h := hex.EncodeToString(b)
	return []string{
		h, strings.ToUpper(h), "0x" + h,
		base64.StdEncoding.EncodeToString(b),
		base64.RawStdEncoding.EncodeToString(b),
		base64.URLEncoding.EncodeToString(b),
		base64.RawURLEncoding.EncodeToString(b),
		new(big.Int).SetBytes(b).String(),
	}
}

// render prints v every way a careless caller might: fmt verbs, nested in
// structs, slices and maps, slog text and JSON handlers, JSON and XML.
func render(t *testing.T, v any) []string {
	t.Helper()
	type exported struct {
		Name   string
		Secret any
	}
	type unexported struct {
		name   string
		secret any
	}
	holders := []any{
		v,
		exported{"x", v},
		&exported{"x", v},
		unexported{"x", v},
		[]any{v, v},
		map[string]any{"k": v},
	}
	var out []string
	for _, h := range holders {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%.3s", "%T", "%p"} {
			out = append(out, fmt.Sprintf(verb, h))
		}
		out = append(out, fmt.Sprint(h), fmt.Sprintln(h))
		if b, err := json.Marshal(h); err == nil {
			out = append(out, string(b))
		}
	}
	for _, newHandler := range []func(*bytes.Buffer) slog.Handler{
		func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var buf bytes.Buffer
		l := slog.New(newHandler(&buf))
		l.Info("msg", "key", v, slog.Any("any", v), slog.Group("g", "nested", v))
		l.Info(fmt.Sprint(v), "holder", exported{"x", v})
		out = append(out, buf.String())
	}
	if b, err := xml.Marshal(struct{ S any }{v}); err == nil {
		out = append(out, string(b))
	}
	return out
}

func assertRedacted(t *testing.T, v any, secret []byte, extra ...string) {
	t.Helper()
	forbidden := append(encodings(secret), extra...)
	for _, s := range render(t, v) {
		for _, f := range forbidden {
			if f != "" && strings.Contains(s, f) {
				t.Fatalf("output leaks secret (as %q):\n%s", f, s)
			}
		}
	}
}

func TestPrivateKeyRedacts(t *testing.T) {
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	secret := k.Bytes()
	t.Run("pointer", func(t *testing.T) { assertRedacted(t, k, secret) })
	t.Run("value", func(t *testing.T) { assertRedacted(t, *k, secret) })

	a := k.Address().Hex()
	want := "PrivateKey(" + a[:6] + "…" + a[38:] + " redacted)"
	for _, got := range []string{k.String(), k.GoString(), fmt.Sprintf("%v", k), fmt.Sprintf("%+v", *k), fmt.Sprintf("%#v", k), fmt.Sprintf("%x", k)} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	b, _ := json.Marshal(k)
	if string(b) != `"`+want+`"` {
		t.Errorf("JSON = %s", b)
	}
	if lv := k.LogValue().String(); lv != want {
		t.Errorf("LogValue = %q", lv)
	}
}

func TestCredentialRedacts(t *testing.T) {
	for _, mint := range []func() (Credential, error){NewCredential, NewAdminCredential} {
		c, err := mint()
		if err != nil {
			t.Fatal(err)
		}
		t.Run(c.ID(), func(t *testing.T) {
			secret := c.secret.b[:]
			assertRedacted(t, c, secret, c.Reveal())
			assertRedacted(t, &c, secret, c.Reveal())
			assertRedacted(t, c.Secret(), secret)
			want := "Credential(" + c.prefix + c.ID() + "_… redacted)"
			if got := fmt.Sprintf("%v|%s|%#v", c, c, c); got != want+"|"+want+"|"+want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

func TestMasterKeyRedacts(t *testing.T) {
	p := testParams(t)
	k := testKey(t, "pass", p)
	raw, err := scrypt.Key([]byte("pass"), p.Salt, p.N, p.R, p.P, p.KeyLen)
	if err != nil {
		t.Fatal(err)
	}
	// The AES key schedule starts with the raw key, so printing the cipher's
	// internals would show these bytes.
	assertRedacted(t, k, raw, "pass")
	assertRedacted(t, *k, raw, "pass")
	assertRedacted(t, k, raw[:16])
	for _, s := range render(t, k) {
		if strings.Contains(s, "aead") || strings.Contains(s, "gcm") {
			t.Fatalf("MasterKey printed internals: %s", s)
		}
	}
	if got := fmt.Sprintf("%v %+v %#v %s %x", k, k, k, k, k); got != strings.TrimSpace(strings.Repeat("MasterKey(redacted) ", 5)) {
		t.Errorf("got %q", got)
	}
}
