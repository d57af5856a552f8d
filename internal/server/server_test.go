package server

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A request whose headers exceed MaxHeaderBytes is refused with 431
// before any handler runs.
func TestHeaderBytesCapped(t *testing.T) {
	var served int
	l, err := listen("127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { served++ }), nil,
		Config{MaxConns: 4, MaxHeaderBytes: 4096, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.close() })
	url := "http://" + l.ln.Addr().String() + "/"
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("X-Big", strings.Repeat("a", 64<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge || served != 0 {
		t.Errorf("64 KiB of headers: HTTP %d, %d served; want 431 and none", resp.StatusCode, served)
	}
	resp, err = http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("small headers: HTTP %d", resp.StatusCode)
	}
}

// With MaxConns 1, a second connection is not taken while the first is
// open: it waits in the backlog and is served after the first closes.
func TestConnectionsCapped(t *testing.T) {
	entered, release := make(chan string, 2), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- r.URL.Path
		if r.URL.Path == "/hold" {
			<-release
		}
	})
	l, err := listen("127.0.0.1:0", h, nil, Config{MaxConns: 1, MaxHeaderBytes: 4096, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.close() })
	base := "http://" + l.ln.Addr().String()
	client := func(dialed chan<- struct{}) *http.Client {
		return &http.Client{Transport: &http.Transport{DisableKeepAlives: true,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
				if dialed != nil {
					dialed <- struct{}{}
				}
				return c, err
			}}}
	}
	done := make(chan error, 2)
	get := func(c *http.Client, path string) {
		resp, err := c.Get(base + path)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		done <- err
	}
	go get(client(nil), "/hold")
	<-entered
	dialed := make(chan struct{}, 1)
	go get(client(dialed), "/second")
	<-dialed // the kernel holds the second connection; the server must not take it
	// A server without the cap answers the second request at once; give
	// it ample time to show it (with the cap it cannot happen at all).
	select {
	case p := <-entered:
		t.Fatalf("%s was served while the first connection was open", p)
	case <-time.After(300 * time.Millisecond):
	}
	close(release)
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if p := <-entered; p != "/second" {
		t.Errorf("then %s, want /second", p)
	}
}
