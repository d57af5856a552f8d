package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/agentkeys/agentkeys/internal/store"
)

func hook(id string, at time.Time) store.AlertHook {
	return store.AlertHook{ID: id, Name: "ops " + id, URLShown: "https://hooks.example/…", SealedURL: []byte("sealed url " + id),
		SealedSecret: []byte("sealed secret " + id), MinSeverity: "warning", CreatedAt: at}
}

func delivery(id, hookID string, seq int64, at time.Time) store.AlertDelivery {
	return store.AlertDelivery{ID: id, HookID: hookID, AnomalySeq: seq, Body: json.RawMessage(`{"id":"` + id + `"}`),
		State: store.DeliveryPending, NextAttemptAt: at, CreatedAt: at}
}

func testAlertHooks(t *testing.T, s store.Store) {
	a, b := hook("hook_a", t0), hook("hook_b", t0.Add(time.Second))
	b.SealedSecret = nil // an unsigned hook
	for _, h := range []store.AlertHook{b, a} {
		if err := s.PutAlertHook(ctx(t), h); err != nil {
			t.Fatal(err)
		}
	}
	wantErr(t, "PutAlertHook duplicate", s.PutAlertHook(ctx(t), a), store.ErrConflict)
	got, err := s.GetAlertHook(ctx(t), "hook_b")
	if err != nil {
		t.Fatal(err)
	}
	b.CreatedAt = msUTC(b.CreatedAt)
	if diff := cmp.Diff(b, got); diff != "" {
		t.Errorf("GetAlertHook (-want +got):\n%s", diff)
	}
	if got.SealedSecret != nil {
		t.Errorf("an unsigned hook came back with secret %x", got.SealedSecret)
	}
	list, err := s.ListAlertHooks(ctx(t))
	if err != nil || len(list) != 2 || list[0].ID != "hook_a" || list[1].ID != "hook_b" {
		t.Fatalf("ListAlertHooks = %+v, %v; want hook_a, hook_b by creation", list, err)
	}
	_, err = s.GetAlertHook(ctx(t), "hook_x")
	wantErr(t, "GetAlertHook unknown", err, store.ErrNotFound)

	if _, err := s.RecordAlert(ctx(t), 7, []store.AlertDelivery{delivery("d1", "hook_a", 7, t0)}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAlertHook(ctx(t), "hook_a"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "DeleteAlertHook again", s.DeleteAlertHook(ctx(t), "hook_a"), store.ErrNotFound)
	if ds, err := s.ListAlertDeliveries(ctx(t), store.AlertDeliveryFilter{}); err != nil || len(ds) != 0 {
		t.Errorf("deliveries of a deleted hook remain: %+v, %v", ds, err)
	}
	for name, h := range map[string]store.AlertHook{
		"no id":        {Name: "x", URLShown: "https://x", SealedURL: []byte{1}, MinSeverity: "info", CreatedAt: t0},
		"no url":       {ID: "h", Name: "x", MinSeverity: "info", CreatedAt: t0},
		"empty secret": {ID: "h", Name: "x", URLShown: "https://x", SealedURL: []byte{1}, SealedSecret: []byte{}, MinSeverity: "info", CreatedAt: t0},
		"no severity":  {ID: "h", Name: "x", URLShown: "https://x", SealedURL: []byte{1}, CreatedAt: t0},
		"no time":      {ID: "h", Name: "x", URLShown: "https://x", SealedURL: []byte{1}, MinSeverity: "info"},
	} {
		wantErr(t, "PutAlertHook "+name, s.PutAlertHook(ctx(t), h), store.ErrInvalid)
	}
}

func testRecordAlert(t *testing.T, s store.Store) {
	for _, id := range []string{"hook_a", "hook_b"} {
		if err := s.PutAlertHook(ctx(t), hook(id, t0)); err != nil {
			t.Fatal(err)
		}
	}
	ds := []store.AlertDelivery{delivery("d1", "hook_a", 5, t0), delivery("d2", "hook_b", 5, t0)}
	fresh, err := s.RecordAlert(ctx(t), 5, ds)
	if err != nil || !fresh {
		t.Fatalf("RecordAlert = %v, %v; want a new alert", fresh, err)
	}
	// Replaying the anomaly (the feed at the next start) stores nothing,
	// whatever the deliveries' ids.
	again := []store.AlertDelivery{delivery("d3", "hook_a", 5, t0), delivery("d4", "hook_b", 5, t0)}
	fresh, err = s.RecordAlert(ctx(t), 5, again)
	if err != nil || fresh {
		t.Fatalf("RecordAlert again = %v, %v; want an anomaly already alerted", fresh, err)
	}
	// An anomaly with no hooks is still recorded as alerted.
	if fresh, err := s.RecordAlert(ctx(t), 6, nil); err != nil || !fresh {
		t.Fatalf("RecordAlert without deliveries = %v, %v", fresh, err)
	}
	if fresh, err := s.RecordAlert(ctx(t), 6, nil); err != nil || fresh {
		t.Fatalf("RecordAlert without deliveries again = %v, %v", fresh, err)
	}
	all, err := s.ListAlertDeliveries(ctx(t), store.AlertDeliveryFilter{})
	if err != nil || len(all) != 2 {
		t.Fatalf("ListAlertDeliveries = %+v, %v; want d1 and d2 only", all, err)
	}
	got := map[string]store.AlertDelivery{}
	for _, d := range all {
		got[d.ID] = d
	}
	want := ds[0]
	want.UpdatedAt, want.NextAttemptAt, want.CreatedAt = msUTC(t0), msUTC(t0), msUTC(t0)
	if diff := cmp.Diff(want, got["d1"], cmpOpts); diff != "" {
		t.Errorf("stored delivery (-want +got):\n%s", diff)
	}

	for name, tc := range map[string]struct {
		seq int64
		ds  []store.AlertDelivery
	}{
		"seq 0":         {0, nil},
		"other anomaly": {8, []store.AlertDelivery{delivery("d5", "hook_a", 9, t0)}},
		"bad body":      {8, []store.AlertDelivery{{ID: "d5", HookID: "hook_a", AnomalySeq: 8, Body: []byte("{"), State: store.DeliveryPending, NextAttemptAt: t0, CreatedAt: t0}}},
		"attempted":     {8, []store.AlertDelivery{{ID: "d5", HookID: "hook_a", AnomalySeq: 8, Body: []byte("{}"), State: store.DeliveryPending, Attempts: 1, NextAttemptAt: t0, CreatedAt: t0}}},
	} {
		_, err := s.RecordAlert(ctx(t), tc.seq, tc.ds)
		wantErr(t, "RecordAlert "+name, err, store.ErrInvalid)
	}
	// A delivery to a hook that does not exist stores nothing, not even
	// the mark: the anomaly is alerted when it is tried again.
	_, err = s.RecordAlert(ctx(t), 8, []store.AlertDelivery{delivery("d5", "hook_a", 8, t0), delivery("d6", "hook_x", 8, t0)})
	wantErr(t, "RecordAlert unknown hook", err, store.ErrNotFound)
	if fresh, err := s.RecordAlert(ctx(t), 8, nil); err != nil || !fresh {
		t.Errorf("after a failed RecordAlert the anomaly must not count as alerted: %v, %v", fresh, err)
	}
	if all, _ := s.ListAlertDeliveries(ctx(t), store.AlertDeliveryFilter{}); len(all) != 2 {
		t.Errorf("a failed RecordAlert stored deliveries: %+v", all)
	}

	// Test deliveries: any number per hook, never an anomaly's.
	for _, id := range []string{"t1", "t2"} {
		if err := s.AddAlertDelivery(ctx(t), delivery(id, "hook_a", 0, t0)); err != nil {
			t.Fatal(err)
		}
	}
	wantErr(t, "AddAlertDelivery duplicate id", s.AddAlertDelivery(ctx(t), delivery("t1", "hook_a", 0, t0)), store.ErrConflict)
	wantErr(t, "AddAlertDelivery anomaly", s.AddAlertDelivery(ctx(t), delivery("t3", "hook_a", 5, t0)), store.ErrInvalid)
	wantErr(t, "AddAlertDelivery unknown hook", s.AddAlertDelivery(ctx(t), delivery("t3", "hook_x", 0, t0)), store.ErrNotFound)
}

func testAlertDeliveryLifecycle(t *testing.T, s store.Store) {
	if err := s.PutAlertHook(ctx(t), hook("hook_a", t0)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordAlert(ctx(t), 3, []store.AlertDelivery{delivery("late", "hook_a", 3, t0.Add(time.Minute))}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordAlert(ctx(t), 4, []store.AlertDelivery{delivery("early", "hook_a", 4, t0)}); err != nil {
		t.Fatal(err)
	}
	due := func(at time.Time) []string {
		t.Helper()
		return deliveryIDs(t)(s.DueAlertDeliveries(ctx(t), at, 10))
	}
	if got := due(t0); !cmp.Equal(got, []string{"early"}) {
		t.Errorf("due at t0 = %v, want [early]", got)
	}
	if got := due(t0.Add(time.Minute)); !cmp.Equal(got, []string{"early", "late"}) {
		t.Errorf("due a minute later = %v, want [early late]", got)
	}
	_, err := s.DueAlertDeliveries(ctx(t), t0, 0)
	wantErr(t, "DueAlertDeliveries limit 0", err, store.ErrInvalid)

	// A failed attempt: retried later, its status and error kept.
	d, err := s.UpdateAlertDelivery(ctx(t), "early", store.AlertAttempt{State: store.DeliveryPending, At: t0, NextAttemptAt: t0.Add(2 * time.Minute), Status: 500, Error: "HTTP 500"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Attempts != 1 || d.State != store.DeliveryPending || d.LastStatus != 500 || d.LastError != "HTTP 500" || !d.NextAttemptAt.Equal(msUTC(t0.Add(2*time.Minute))) {
		t.Errorf("after a failed attempt: %+v", d)
	}
	if got := due(t0.Add(time.Minute)); !cmp.Equal(got, []string{"late"}) {
		t.Errorf("due while early backs off = %v, want [late]", got)
	}
	d, err = s.UpdateAlertDelivery(ctx(t), "early", store.AlertAttempt{State: store.DeliveryDelivered, At: t0.Add(2 * time.Minute), Status: 204})
	if err != nil {
		t.Fatal(err)
	}
	if d.Attempts != 2 || d.State != store.DeliveryDelivered || d.LastStatus != 204 || d.LastError != "" || !d.UpdatedAt.Equal(msUTC(t0.Add(2*time.Minute))) {
		t.Errorf("after delivery: %+v", d)
	}
	_, err = s.UpdateAlertDelivery(ctx(t), "early", store.AlertAttempt{State: store.DeliveryFailed, At: t0})
	wantErr(t, "UpdateAlertDelivery final", err, store.ErrConflict)
	_, err = s.UpdateAlertDelivery(ctx(t), "nope", store.AlertAttempt{State: store.DeliveryFailed, At: t0})
	wantErr(t, "UpdateAlertDelivery unknown", err, store.ErrNotFound)
	for name, a := range map[string]store.AlertAttempt{
		"bad state":          {State: "lost", At: t0},
		"no time":            {State: store.DeliveryFailed},
		"pending, no next":   {State: store.DeliveryPending, At: t0},
		"delivered, a next ": {State: store.DeliveryDelivered, At: t0, NextAttemptAt: t0},
	} {
		_, err := s.UpdateAlertDelivery(ctx(t), "late", a)
		wantErr(t, "UpdateAlertDelivery "+name, err, store.ErrInvalid)
	}
	if _, err := s.UpdateAlertDelivery(ctx(t), "late", store.AlertAttempt{State: store.DeliveryFailed, At: t0.Add(time.Hour), Error: "gave up"}); err != nil {
		t.Fatal(err)
	}
	if got := due(t0.Add(24 * time.Hour)); len(got) != 0 {
		t.Errorf("final deliveries are never due: %v", got)
	}

	list := func(f store.AlertDeliveryFilter) []string {
		t.Helper()
		return deliveryIDs(t)(s.ListAlertDeliveries(ctx(t), f))
	}
	if got := list(store.AlertDeliveryFilter{}); !cmp.Equal(got, []string{"late", "early"}) {
		t.Errorf("all deliveries, newest first = %v", got)
	}
	if got := list(store.AlertDeliveryFilter{State: store.DeliveryFailed}); !cmp.Equal(got, []string{"late"}) {
		t.Errorf("failed deliveries = %v", got)
	}
	if got := list(store.AlertDeliveryFilter{HookID: "hook_a", Limit: 1}); !cmp.Equal(got, []string{"late"}) {
		t.Errorf("newest delivery of hook_a = %v", got)
	}
	if got := list(store.AlertDeliveryFilter{HookID: "hook_b"}); len(got) != 0 {
		t.Errorf("deliveries of another hook = %v", got)
	}
	_, err = s.ListAlertDeliveries(ctx(t), store.AlertDeliveryFilter{State: "lost"})
	wantErr(t, "ListAlertDeliveries bad state", err, store.ErrInvalid)
}

// deliveryIDs returns a function taking a listing's result and returning
// the ids of its deliveries in order, failing t on an error.
func deliveryIDs(t *testing.T) func([]store.AlertDelivery, error) []string {
	return func(ds []store.AlertDelivery, err error) []string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, d := range ds {
			ids = append(ids, d.ID)
		}
		return ids
	}
}
