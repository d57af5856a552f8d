package policy

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestAnomalySettings(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "policies", "valid_anomalies.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse(src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := Anomalies{
		Respond: map[string]string{AnomalyNewIP: RespondAlert, AnomalyRateSpike: RespondAlert, AnomalyRefusalBurst: RespondSuspend,
			AnomalyOffSchedule: RespondAlert, AnomalyValueOutlier: RespondAlert, AnomalyStaleKeyInUse: RespondSuspend},
		RateMultiple: 2.5, RateWindow: 10 * time.Minute, RateBaseline: 48 * time.Hour, RateMinRequests: 10,
		BurstCount: 4, BurstWithin: 2 * time.Minute,
		ValueMultiple: DefaultValueMultiple, ValueMinHistory: 3,
	}
	if diff := cmp.Diff(want, p.Anomalies()); diff != "" {
		t.Errorf("settings (-want +got):\n%s", diff)
	}
	if !p.SuspendsOnAnomaly() || !p.Suspends(AnomalyRefusalBurst) || p.Suspends(AnomalyNewIP) {
		t.Error("suspends on refusal_burst and stale_key_used only")
	}
	if got := p.StaleAfter(); got != 14*24*time.Hour {
		t.Errorf("stale_after = %v, want 336h", got)
	}
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		at   time.Duration
		want bool
	}{{7*time.Hour + 59*time.Minute, false}, {8 * time.Hour, true}, {19*time.Hour + 59*time.Minute, true}, {20 * time.Hour, false}} {
		if got := p.InSchedule(day.Add(c.at)); got != c.want {
			t.Errorf("InSchedule(%v) = %v, want %v", day.Add(c.at), got, c.want)
		}
	}
}

func TestAnomalyDefaults(t *testing.T) {
	p, err := Parse([]byte("name: a\nchains: [1]\nanomalies: {on_anomaly: suspend, new_ip: {on_anomaly: alert}}\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := p.Anomalies()
	for _, k := range AnomalyKinds {
		want := RespondSuspend
		if k == AnomalyNewIP {
			want = RespondAlert
		}
		if a.Respond[k] != want {
			t.Errorf("%s: %s, want %s", k, a.Respond[k], want)
		}
	}
	if a.BurstCount != DefaultBurstCount || a.BurstWithin != DefaultBurstWithin || a.RateMultiple != DefaultRateMultiple {
		t.Errorf("defaults not filled: %+v", a)
	}
	plain, err := Parse([]byte("name: a\nchains: [1]\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if plain.SuspendsOnAnomaly() || plain.StaleAfter() != 0 || !plain.InSchedule(time.Time{}) {
		t.Error("a policy without anomalies or stale_after alerts only, never goes stale, and has no schedule")
	}
}
