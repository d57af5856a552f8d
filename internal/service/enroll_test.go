package service_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/agentkeys/agentkeys/internal/service"
)

// TestRegistrationFinishesOnAnotherReplica: the passkey registration
// ceremony begun through one service is kept with its link in the store,
// so another service on the same store (another replica, or the daemon
// after a restart) finishes it: it checks the browser's answer against
// that ceremony instead of calling the link unknown.
func TestRegistrationFinishesOnAnotherReplica(t *testing.T) {
	h := newHarness(t)
	other := h.newService()
	for _, s := range []*service.Service{h.svc, other} {
		if err := s.SetOwnerURL("http://localhost:8646"); err != nil {
			t.Fatal(err)
		}
	}
	e, err := h.svc.NewEnrollment(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	token := e.URL[strings.Index(e.URL, "#")+1:]

	// Not begun yet: nothing to finish, anywhere.
	if _, err := other.FinishRegistration(h.ctx, token, "laptop", []byte(`{}`)); !errors.Is(err, service.ErrEnrollment) {
		t.Fatalf("finish before begin: %v, want ErrEnrollment", err)
	}
	opts, err := h.svc.BeginRegistration(h.ctx, token)
	if err != nil || !strings.Contains(string(opts), `"challenge"`) {
		t.Fatalf("BeginRegistration = %s, %v", opts, err)
	}
	// The other replica knows the ceremony: the answer itself is judged
	// (and this one, which is no credential, refused).
	_, err = other.FinishRegistration(h.ctx, token, "laptop", []byte(`{"id":"x"}`))
	var pe *service.PasskeyError
	if !errors.As(err, &pe) {
		t.Fatalf("finish on the other replica: %v, want the answer refused as a PasskeyError", err)
	}
	if _, err := other.BeginRegistration(h.ctx, "not-the-token"); !errors.Is(err, service.ErrEnrollment) {
		t.Fatalf("begin with another token: %v, want ErrEnrollment", err)
	}
}
