package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/agentkeys/agentkeys/internal/service"
)

// Client calls the admin API of a running daemon.
type Client struct {
	URL   string // base URL, like http://127.0.0.1:8646
	Token string // the admin credential, akadm_...
	HTTP  *http.Client
}

// Error is a refusal from the admin API, in its own words.
type Error struct {
	Status  int
	Message string
}

func (e *Error) Error() string { return e.Message }

// PendingError is the answer to a widening change that now waits for the
// owner's passkey (HTTP 202): nothing took effect yet.
type PendingError struct{ Change service.PendingChange }

func (e *PendingError) Error() string {
	return fmt.Sprintf("pending owner approval: approve change %s with a passkey at %s", e.Change.ID, e.Change.ApproveURL)
}

// Do sends body (if not nil) as JSON and decodes the answer into out (if
// not nil).
func (c *Client) Do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.URL, "/")+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Content-Type", "application/json")
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 2 * time.Minute}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("reach the daemon at %s: %w", c.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if resp.StatusCode >= 300 {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(b, &e) != nil || e.Error == "" {
			e.Error = http.StatusText(resp.StatusCode)
		}
		return &Error{Status: resp.StatusCode, Message: e.Error}
	}
	var key struct {
		Token string `json:"token"`
	}
	if resp.StatusCode == http.StatusAccepted && (json.Unmarshal(b, &key) != nil || key.Token == "") {
		// A new key pending approval is still a key (its credential is
		// shown once, in "token"); anything else that waits is a
		// pending change.
		var pc service.PendingChange
		if err := json.Unmarshal(b, &pc); err != nil {
			return err
		}
		return &PendingError{Change: pc}
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}
