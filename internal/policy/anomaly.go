package policy

import (
	"fmt"
	"time"
)

// Anomaly kinds a policy configures (the service detects them; their
// names are the ones its anomaly records carry).
const (
	AnomalyNewIP         = "new_ip"         // first use from a source network never seen for the key
	AnomalyRateSpike     = "rate_spike"     // requests above a multiple of the key's trailing baseline
	AnomalyRefusalBurst  = "refusal_burst"  // count refusals within a span: an agent probing its box
	AnomalyOffSchedule   = "off_schedule"   // attempts outside the key's schedule
	AnomalyValueOutlier  = "value_outlier"  // a value far above the key's history
	AnomalyStaleKeyInUse = "stale_key_used" // use of a key idle longer than its stale_after
)

// AnomalyKinds lists the kinds in the order policies and docs name them.
var AnomalyKinds = []string{AnomalyNewIP, AnomalyRateSpike, AnomalyRefusalBurst, AnomalyOffSchedule, AnomalyValueOutlier, AnomalyStaleKeyInUse}

// Responses to an anomaly (on_anomaly).
const (
	RespondAlert   = "alert"   // record it (and alert whoever watches)
	RespondSuspend = "suspend" // record it and suspend the key until the owner resumes it
)

// Default anomaly thresholds.
const (
	DefaultRateMultiple    = 5.0
	DefaultRateWindow      = 5 * time.Minute
	DefaultRateBaseline    = 24 * time.Hour
	DefaultRateMinRequests = 30
	DefaultBurstCount      = 5
	DefaultBurstWithin     = 10 * time.Minute
	DefaultValueMultiple   = 10.0
	DefaultValueMinHistory = 5
)

// Anomalies is a key's compiled anomaly settings: the response to each
// kind and the thresholds, defaults filled in.
type Anomalies struct {
	// Respond maps every kind of AnomalyKinds to RespondAlert or
	// RespondSuspend.
	Respond map[string]string
	// rate_spike: more than RateMultiple times the requests the key's
	// trailing RateBaseline would predict for a RateWindow, and at least
	// RateMinRequests of them in the window.
	RateMultiple    float64
	RateWindow      time.Duration
	RateBaseline    time.Duration
	RateMinRequests int
	// refusal_burst: BurstCount refusals within BurstWithin.
	BurstCount  int
	BurstWithin time.Duration
	// value_outlier: a value of an asset more than ValueMultiple times the
	// median of the key's earlier values of it, once it has
	// ValueMinHistory of them.
	ValueMultiple   float64
	ValueMinHistory int
}

// kind returns the field of a that holds kind (one of AnomalyKinds).
func (a *AnomaliesDoc) kind(kind string) **AnomalyDoc {
	switch kind {
	case AnomalyNewIP:
		return &a.NewIP
	case AnomalyRateSpike:
		return &a.RateSpike
	case AnomalyRefusalBurst:
		return &a.RefusalBurst
	case AnomalyOffSchedule:
		return &a.OffSchedule
	case AnomalyValueOutlier:
		return &a.ValueOutlier
	case AnomalyStaleKeyInUse:
		return &a.StaleKeyUsed
	}
	panic("policy: unknown anomaly kind " + kind)
}

// defaultAnomalies are the settings of a policy without an anomalies
// section: every kind alerts.
func defaultAnomalies() Anomalies {
	a := Anomalies{Respond: map[string]string{},
		RateMultiple: DefaultRateMultiple, RateWindow: DefaultRateWindow, RateBaseline: DefaultRateBaseline, RateMinRequests: DefaultRateMinRequests,
		BurstCount: DefaultBurstCount, BurstWithin: DefaultBurstWithin,
		ValueMultiple: DefaultValueMultiple, ValueMinHistory: DefaultValueMinHistory}
	for _, k := range AnomalyKinds {
		a.Respond[k] = RespondAlert
	}
	return a
}

func response(field, s, dflt string) (string, error) {
	switch s {
	case "":
		return dflt, nil
	case RespondAlert, RespondSuspend:
		return s, nil
	}
	return "", ferr(field, "expected alert or suspend, got %q", s)
}

// anomaliesStep compiles stale_after and the anomalies section.
func (c *compiler) anomaliesStep(d *Document) error {
	p := c.p
	p.anomalies = defaultAnomalies()
	if d.StaleAfter != "" {
		v, err := positiveDuration("stale_after", d.StaleAfter)
		if err != nil {
			return err
		}
		p.staleAfter = v
		p.doc.StaleAfter = formatDuration(v)
	}
	if d.Anomalies == nil {
		return nil
	}
	in := d.Anomalies
	out := &AnomaliesDoc{}
	all, err := response("anomalies.on_anomaly", in.OnAnomaly, RespondAlert)
	if err != nil {
		return err
	}
	out.OnAnomaly = in.OnAnomaly
	a := &p.anomalies
	for _, k := range AnomalyKinds {
		a.Respond[k] = all
		kd := *in.kind(k)
		if kd == nil {
			continue
		}
		field := "anomalies." + k
		switch {
		case k == AnomalyOffSchedule && p.schedule == nil:
			return ferr(field, "the policy has no schedule, so no attempt can be outside it; add a schedule or leave %s out", k)
		case k == AnomalyStaleKeyInUse && p.staleAfter == 0:
			return ferr(field, "needs stale_after (how long unused makes a key stale), like stale_after: 14d")
		}
		if a.Respond[k], err = response(field+".on_anomaly", kd.OnAnomaly, all); err != nil {
			return err
		}
		nd := &AnomalyDoc{OnAnomaly: kd.OnAnomaly, Multiple: kd.Multiple, MinRequests: kd.MinRequests, Count: kd.Count, MinHistory: kd.MinHistory}
		dur := func(name, s string, dst *time.Duration, norm *string) error {
			if s == "" {
				return nil
			}
			v, err := positiveDuration(field+"."+name, s)
			if err != nil {
				return err
			}
			*dst, *norm = v, formatDuration(v)
			return nil
		}
		switch k {
		case AnomalyRateSpike:
			if kd.Multiple != 0 {
				a.RateMultiple = kd.Multiple
			}
			if kd.MinRequests != 0 {
				a.RateMinRequests = kd.MinRequests
			}
			if err := dur("window", kd.Window, &a.RateWindow, &nd.Window); err != nil {
				return err
			}
			if err := dur("baseline", kd.Baseline, &a.RateBaseline, &nd.Baseline); err != nil {
				return err
			}
			if a.RateBaseline < 2*a.RateWindow {
				return ferr(field+".baseline", "%s must be at least twice the window %s, so there is a history to compare with",
					formatDuration(a.RateBaseline), formatDuration(a.RateWindow))
			}
			if a.RateBaseline > 30*24*time.Hour {
				return ferr(field+".baseline", "at most 30d, got %s", formatDuration(a.RateBaseline))
			}
		case AnomalyRefusalBurst:
			if kd.Count != 0 {
				if kd.Count < 2 {
					return ferr(field+".count", "expected at least 2 refusals (one refusal is not a burst), got %d", kd.Count)
				}
				a.BurstCount = kd.Count
			}
			if err := dur("within", kd.Within, &a.BurstWithin, &nd.Within); err != nil {
				return err
			}
			if a.BurstWithin > 24*time.Hour {
				return ferr(field+".within", "at most 24h, got %s", formatDuration(a.BurstWithin))
			}
		case AnomalyValueOutlier:
			if kd.Multiple != 0 {
				a.ValueMultiple = kd.Multiple
			}
			if kd.MinHistory != 0 {
				a.ValueMinHistory = kd.MinHistory
			}
		}
		*out.kind(k) = nd
	}
	p.doc.Anomalies = out
	return nil
}

// Anomalies returns the key's anomaly settings (defaults where the
// policy says nothing).
func (p *Policy) Anomalies() Anomalies {
	a := p.anomalies
	a.Respond = make(map[string]string, len(p.anomalies.Respond))
	for k, v := range p.anomalies.Respond {
		a.Respond[k] = v
	}
	return a
}

// Suspends reports whether an anomaly of kind suspends the key.
func (p *Policy) Suspends(kind string) bool { return p.anomalies.Respond[kind] == RespondSuspend }

// SuspendsOnAnomaly reports whether any kind suspends the key, so the
// daemon must have looked at every earlier record of the key before it
// decides the next request.
func (p *Policy) SuspendsOnAnomaly() bool {
	for _, r := range p.anomalies.Respond {
		if r == RespondSuspend {
			return true
		}
	}
	return false
}

// StaleAfter is how long a key may go unused before it is revoked; 0 if
// the policy sets no stale_after.
func (p *Policy) StaleAfter() time.Duration { return p.staleAfter }

// InSchedule reports whether t falls inside the policy's schedule (always
// true without one).
func (p *Policy) InSchedule(t time.Time) bool {
	return p.schedule == nil || p.schedule.allows(t)
}

// ScheduleText describes the schedule in words, "" without one.
func (p *Policy) ScheduleText() string {
	s := p.doc.Schedule
	if s == nil {
		return ""
	}
	return fmt.Sprintf("%v %s (%s)", s.Days, s.Hours, s.Timezone)
}
