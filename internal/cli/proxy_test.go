package cli

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/agentkeys/agentkeys/internal/devchain"
	"github.com/agentkeys/agentkeys/internal/secrets"
)

// newServeHome creates a home with a cheap KDF and a funded dev chain for
// it.
func newServeHome(t *testing.T) (dir string, admin secrets.Credential, chain *devchain.Chain) {
	t.Helper()
	dir, admin, owner := testHome(t)
	chain, err := devchain.Start(context.Background(), devchain.Config{Listen: "127.0.0.1:0", Fund: []common.Address{owner}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { chain.Close() })
	return dir, admin, chain
}

// clientFrom returns an HTTP client whose connections come from the
// loopback address local (Linux answers on all of 127.0.0.0/8).
func clientFrom(local string) *http.Client {
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 10 * time.Second}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: dialer.DialContext}}
}

func postJSON(t *testing.T, c *http.Client, url, token, body string, header http.Header) string {
	t.Helper()
	h := http.Header{"Content-Type": {"application/json"}}
	for k, vs := range header {
		h[k] = append(h[k], vs...)
	}
	_, out := httpDo(t, c, "POST", url, token, body, h)
	return out
}

// httpDo sends one HTTP request, with the bearer token if one is given,
// and returns the answer's status and body.
func httpDo(t *testing.T, c *http.Client, method, url, token, body string, header http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestTrustedProxyNetworkAllowlist: a key whose policy admits only
// 127.0.0.3 is used through a reverse proxy (connecting from 127.0.0.2,
// trusted), directly with a forged X-Forwarded-For, and through the proxy
// from another address with a forged X-Forwarded-For. Only the first is
// the agent at 127.0.0.3, and the audit log says so.
func TestTrustedProxyNetworkAllowlist(t *testing.T) {
	dir, adminCred, chain := newServeHome(t)
	d := serveWith(t, dir, "--rpc-upstream", chain.URL(), "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0",
		"--trusted-proxy", "127.0.0.2/32")

	policy := "name: proxied\nchains: [31337]\nvalid_for: 1h\nnetwork: { allow_cidrs: [\"127.0.0.3/32\"] }\nmessages: allow\n"
	body, _ := json.Marshal(map[string]string{"agent": "bot", "policy": policy})
	grant := postJSON(t, http.DefaultClient, d.adminURL+"/v1/grants", adminCred.Reveal(), string(body), nil)
	var g struct {
		Token   string `json:"token"`
		Address string `json:"address"`
	}
	if err := json.Unmarshal([]byte(grant), &g); err != nil || g.Token == "" {
		t.Fatalf("grant: %s", grant)
	}

	target, _ := url.Parse(d.agentURL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxyDialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
	proxy.Transport = &http.Transport{DialContext: proxyDialer.DialContext}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	proxySrv := &http.Server{Handler: proxy}
	go proxySrv.Serve(ln)
	t.Cleanup(func() { proxySrv.Close() })
	proxyURL := "http://" + ln.Addr().String()

	sign := fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"personal_sign","params":["hello from the agent","%s"]}`, g.Address)
	forged := http.Header{"X-Forwarded-For": {"127.0.0.3"}, "User-Agent": {"agent-sdk/2.1"}}

	viaProxy := postJSON(t, clientFrom("127.0.0.3"), proxyURL+"/rpc", g.Token, sign, nil)
	if !regexp.MustCompile(`"result":"0x[0-9a-f]{130}"`).MatchString(viaProxy) {
		t.Fatalf("through the trusted proxy from 127.0.0.3: %s", viaProxy)
	}
	direct := postJSON(t, clientFrom("127.0.0.1"), d.agentURL+"/rpc", g.Token, sign, forged)
	if !strings.Contains(direct, `"code":4001`) || !strings.Contains(direct, "requests from 127.0.0.1 are not allowed") {
		t.Fatalf("direct with a forged X-Forwarded-For: %s", direct)
	}
	spoofedForwarded := http.Header{"Forwarded": {"for=127.0.0.3"}}
	direct = postJSON(t, clientFrom("127.0.0.1"), d.agentURL+"/rpc", g.Token, sign, spoofedForwarded)
	if !strings.Contains(direct, "requests from 127.0.0.1 are not allowed") {
		t.Fatalf("direct with a forged Forwarded: %s", direct)
	}
	spoofed := postJSON(t, clientFrom("127.0.0.4"), proxyURL+"/rpc", g.Token, sign, forged)
	if !strings.Contains(spoofed, `"code":4001`) || !strings.Contains(spoofed, "requests from 127.0.0.4 are not allowed") {
		t.Fatalf("through the proxy from 127.0.0.4 with a forged X-Forwarded-For: %s", spoofed)
	}

	out, errOut, code := run(t, "", "audit", "tail", "--home", dir, "-n", "4", "-o", "json")
	if code != 0 {
		t.Fatalf("audit tail: %s", errOut)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r struct {
			CallerIP  string `json:"caller_ip"`
			Decision  string `json:"decision"`
			UserAgent string `json:"user_agent"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		got = append(got, r.Decision+" "+r.CallerIP+" "+r.UserAgent)
	}
	// The user agent is recorded as the client sent it (Go's own where
	// the test sets none).
	want := []string{"allow 127.0.0.3 Go-http-client/1.1", "deny 127.0.0.1 agent-sdk/2.1", "deny 127.0.0.1 Go-http-client/1.1", "deny 127.0.0.4 agent-sdk/2.1"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("audit decisions, caller IPs and user agents %v, want %v", got, want)
	}
	if out, errOut, code := run(t, "", "audit", "verify", "--home", dir); code != 0 {
		t.Errorf("audit verify after records with user agents: %s%s", out, errOut)
	}
}

// writeSelfSigned writes a self-signed certificate for 127.0.0.1 and its
// key to dir.
func writeSelfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	// Validity is wide so the test passes on any date.
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "agentkeys test"},
		NotBefore: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestServeFromSavedSettingsWithTLS saves every serve setting with
// `agentkeys config set` (TLS files included), then starts `agentkeys
// serve` with no flags: both listeners answer HTTPS with the saved
// certificate, and plain HTTP is refused.
func TestServeFromSavedSettingsWithTLS(t *testing.T) {
	dir, adminCred, chain := newServeHome(t)
	certFile, keyFile, pool := writeSelfSigned(t, t.TempDir())
	for _, kv := range [][2]string{
		{"rpc-upstream", chain.URL()}, {"listen", "127.0.0.1:0"}, {"admin-listen", "127.0.0.1:0"},
		{"tls-cert", certFile}, {"tls-key", keyFile}, {"trusted-proxy", "10.0.0.0/8, 192.0.2.7"},
	} {
		if _, errOut, code := run(t, "", "config", "set", kv[0], kv[1], "--home", dir); code != 0 {
			t.Fatalf("config set %s: %s", kv[0], errOut)
		}
	}
	d := serveWith(t, dir)
	if !strings.HasPrefix(d.agentURL, "https://") || !strings.HasPrefix(d.adminURL, "https://") || d.agentURL == d.adminURL {
		t.Fatalf("urls %s %s", d.agentURL, d.adminURL)
	}
	if !strings.Contains(d.out.String(), "trusted proxies: 10.0.0.0/8, 192.0.2.7") {
		t.Errorf("saved trusted proxies not used: %s", d.out.String())
	}
	tlsClient := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	for _, u := range []string{d.agentURL, d.adminURL} {
		resp, err := tlsClient.Get(u + "/healthz")
		if err != nil {
			t.Fatalf("%s over TLS: %v", u, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.TLS == nil || !strings.Contains(string(b), `"chain_id":31337`) {
			t.Errorf("%s/healthz: tls %v, %s", u, resp.TLS != nil, b)
		}
		plain := "http://" + strings.TrimPrefix(u, "https://")
		if resp, err := http.Get(plain + "/healthz"); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Errorf("%s answered plain HTTP: %s", plain, b)
			}
		}
	}
	grant := postJSON(t, tlsClient, d.adminURL+"/v1/grants", adminCred.Reveal(), `{"agent":"bot","profile":"read-only"}`, nil)
	tok := regexp.MustCompile(`"token": ?"(ak_[^"]+)"`).FindStringSubmatch(grant)
	if tok == nil {
		t.Fatalf("grant over TLS: %s", grant)
	}
	if got := postJSON(t, tlsClient, d.agentURL+"/rpc", tok[1], `{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}`, nil); !strings.Contains(got, `"result":"0x7a69"`) {
		t.Errorf("eth_chainId over TLS: %s", got)
	}
	// The key commands find the certificate in the home and trust it.
	t.Setenv("AGENTKEYS_ADMIN_TOKEN", adminCred.Reveal())
	if out, errOut, code := run(t, "", "key", "list", "--home", dir, "--admin-url", d.adminURL); code != 0 || !strings.Contains(out, "bot") {
		t.Errorf("key list over TLS: exit %d: %s %s", code, out, errOut)
	}
	// A flag wins over the saved setting.
	d.stop()
	d2 := serveWith(t, dir, "--trusted-proxy", "127.0.0.9")
	if !strings.HasPrefix(d2.agentURL, "https://") || !strings.Contains(d2.out.String(), "trusted proxies: 127.0.0.9\n") {
		t.Errorf("--trusted-proxy should replace the saved list and keep the rest: %s", d2.out.String())
	}
}

// TestAdminOnPublicAddressNeedsTLS: serve refuses to put the admin API on
// an address beyond this machine without TLS, naming the ways out;
// --insecure-admin (for a TLS-terminating proxy in front) lets it start.
func TestAdminOnPublicAddressNeedsTLS(t *testing.T) {
	dir, _, chain := newServeHome(t)
	t.Setenv("AGENTKEYS_PASSPHRASE", deployPassphrase)
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0"} {
		_, errOut, code := run(t, "", "serve", "--home", dir, "--rpc-upstream", chain.URL(), "--listen", "127.0.0.1:0", "--admin-listen", addr)
		if code == 0 || !strings.Contains(errOut, "the admin API would listen on "+addr+" without TLS") ||
			!strings.Contains(errOut, "--insecure-admin") || !strings.Contains(errOut, "--tls-cert") {
			t.Errorf("serve --admin-listen %s without TLS: exit %d, %s", addr, code, errOut)
		}
	}
	// One listener for both: the admin API is on --listen.
	if _, errOut, code := run(t, "", "serve", "--home", dir, "--rpc-upstream", chain.URL(), "--listen", "0.0.0.0:8999", "--admin-listen", "0.0.0.0:8999"); code == 0 ||
		!strings.Contains(errOut, "would listen on 0.0.0.0:8999 without TLS") {
		t.Errorf("serve with the admin API on a public --listen: exit %d, %s", code, errOut)
	}
	d := serveWith(t, dir, "--rpc-upstream", chain.URL(), "--listen", "127.0.0.1:0", "--admin-listen", "0.0.0.0:0", "--insecure-admin")
	if !strings.HasPrefix(d.adminURL, "http://") {
		t.Errorf("admin URL with --insecure-admin: %s", d.adminURL)
	}
}
