package service

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/agentkeys/agentkeys/internal/bound"
	"github.com/agentkeys/agentkeys/internal/policy"
	"github.com/agentkeys/agentkeys/internal/store"
)

// UsageWindow is the span KeyUsage counts requests and refusals over.
const UsageWindow = 24 * time.Hour

// KeyUsage is what the audit log says of one key's use, by the service's
// clock. It counts the requests the key made; the owner's actions on it
// (grant, revoke) are not its use.
type KeyUsage struct {
	// LastUsed is the time of the key's newest request, nil if it made
	// none; LastIP, LastUserAgent and LastDecision are that request's
	// caller IP, user agent and decision.
	LastUsed      *time.Time `json:"last_used,omitempty"`
	LastIP        string     `json:"last_ip,omitempty"`
	LastUserAgent string     `json:"last_user_agent,omitempty"`
	LastDecision  string     `json:"last_decision,omitempty"`
	// Requests24h and Denied24h count the requests, and the refused ones
	// among them, in the UsageWindow before now.
	Requests24h int `json:"requests_24h"`
	Denied24h   int `json:"denied_24h"`
}

// Usage returns the use of the key id. Errors: ErrNoKey.
func (s *Service) Usage(ctx context.Context, id string) (KeyUsage, error) {
	if _, err := s.cfg.Store.GetGrant(ctx, id); err != nil {
		return KeyUsage{}, err
	}
	return s.usage(ctx, id, s.now())
}

func (s *Service) usage(ctx context.Context, id string, now time.Time) (KeyUsage, error) {
	u, err := s.cfg.Store.KeyUsage(ctx, id, now.Add(-UsageWindow))
	if err != nil {
		return KeyUsage{}, fmt.Errorf("read usage of %s: %w", id, err)
	}
	out := KeyUsage{LastIP: u.LastIP, LastUserAgent: u.LastUserAgent, LastDecision: u.LastDecision, Requests24h: u.Requests, Denied24h: u.Denied}
	if !u.LastUsed.IsZero() {
		t := u.LastUsed.UTC()
		out.LastUsed = &t
	}
	return out, nil
}

// GrantQuery narrows FindGrants. The zero value lists the first
// DefaultGrantPage keys.
type GrantQuery struct {
	// Status keeps the keys with this status (StatusActive,
	// StatusSuspended, StatusExpired or StatusRevoked) by the service's
	// clock.
	Status string
	// UnusedFor, a duration like 7d, keeps the keys that made no request
	// in that long before now; a key that never made one counts from when
	// it was granted, so a key granted a minute ago is not "unused".
	UnusedFor string
	// Newest lists the newest keys first; by default the oldest are.
	Newest bool
	// Limit is the most keys a page holds: 1 to MaxGrantPage, 0 for
	// DefaultGrantPage.
	Limit int
	// Cursor continues a listing: the NextCursor of its previous page,
	// asked for with the same Status, UnusedFor and Newest.
	Cursor string
}

// Sizes of a page of FindGrants.
const (
	DefaultGrantPage = 100
	MaxGrantPage     = 1000
	// grantScan bounds the keys one page looks at when UnusedFor leaves
	// most of them out, so a page costs a bounded time; such a page may
	// hold fewer keys than its limit, even none, and still have a
	// NextCursor.
	grantScan = 10 * MaxGrantPage
)

// GrantPage is one page of FindGrants.
type GrantPage struct {
	Keys []GrantInfo
	// NextCursor continues the listing (GrantQuery.Cursor); empty when
	// no key is left.
	NextCursor string
}

// FindGrants returns a page of the keys matching q, oldest first (or
// newest, q.Newest), each with its Usage. Pages follow each other by
// position (keyset pagination): a page costs the same however far into
// the listing it is, and keys granted meanwhile are listed once, in
// their place. Errors: *ParamError for a bad status, duration, limit or
// cursor.
func (s *Service) FindGrants(ctx context.Context, q GrantQuery) (GrantPage, error) {
	if err := checkStatus("status", q.Status); err != nil {
		return GrantPage{}, err
	}
	var unused time.Duration
	if q.UnusedFor != "" {
		d, err := policy.ParseDuration(q.UnusedFor)
		if err != nil || d <= 0 {
			return GrantPage{}, &ParamError{Field: "unused_for", Msg: fmt.Sprintf("expected a positive duration like 24h or 7d, got %s", bound.Quote(q.UnusedFor))}
		}
		unused = d
	}
	limit := q.Limit
	switch {
	case limit == 0:
		limit = DefaultGrantPage
	case limit < 0 || limit > MaxGrantPage:
		return GrantPage{}, &ParamError{Field: "limit", Msg: fmt.Sprintf("expected a number from 1 to %d, got %d", MaxGrantPage, q.Limit)}
	}
	now := s.now()
	f := store.GrantFilter{Status: q.Status, Newest: q.Newest, Limit: limit}
	if q.Status != "" {
		f.StatusAt = now
	}
	if q.Cursor != "" {
		c, err := DecodeGrantCursor(q.Cursor)
		if err != nil {
			return GrantPage{}, err
		}
		f.After = &c
	}
	out := GrantPage{Keys: []GrantInfo{}}
	for scanned := 0; ; {
		gs, err := s.cfg.Store.ListGrants(ctx, f)
		if err != nil {
			return GrantPage{}, err
		}
		for i, g := range gs {
			scanned++
			u, err := s.usage(ctx, g.ID, now)
			if err != nil {
				return GrantPage{}, err
			}
			idleSince := g.CreatedAt // never used: idle since it was granted
			if u.LastUsed != nil {
				idleSince = *u.LastUsed
			}
			if unused == 0 || !idleSince.After(now.Add(-unused)) {
				v := s.info(g)
				v.Usage = &u
				out.Keys = append(out.Keys, v)
			}
			// Stop at a full page, or at the bound on keys looked at;
			// more may follow unless this was the store's last.
			if len(out.Keys) == limit || scanned >= grantScan {
				if i < len(gs)-1 || len(gs) == f.Limit {
					out.NextCursor = EncodeGrantCursor(g.Cursor())
				}
				return out, nil
			}
		}
		if len(gs) < f.Limit {
			return out, nil
		}
		c := gs[len(gs)-1].Cursor()
		f.After = &c
	}
}

// EncodeGrantCursor is the opaque text of a position in a listing of
// keys: base64url of its creation time (Unix milliseconds) and id.
func EncodeGrantCursor(c store.GrantCursor) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d.%s", c.CreatedAt.UnixMilli(), c.ID))
}

// DecodeGrantCursor reads a cursor EncodeGrantCursor made. Errors:
// *ParamError on the field "cursor".
func DecodeGrantCursor(text string) (store.GrantCursor, error) {
	bad := &ParamError{Field: "cursor", Msg: "expected the next_cursor of an earlier page, got " + bound.Quote(text)}
	if len(text) > 2*store.MaxGrantCursorID {
		return store.GrantCursor{}, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(text)
	if err != nil {
		return store.GrantCursor{}, bad
	}
	msText, id, ok := strings.Cut(string(b), ".")
	ms, err := strconv.ParseInt(msText, 10, 64)
	if !ok || err != nil || ms <= 0 || id == "" || len(id) > store.MaxGrantCursorID {
		return store.GrantCursor{}, bad
	}
	return store.GrantCursor{CreatedAt: time.UnixMilli(ms).UTC(), ID: id}, nil
}
