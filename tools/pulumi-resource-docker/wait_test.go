package main

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestProbeCommandRunsTheHealthcheckTestAsDockerWould(t *testing.T) {
	cases := []struct {
		test []string
		want []string
	}{
		{[]string{"CMD", "/plugin", "healthcheck", "http://127.0.0.1:3100/health/live"},
			[]string{"/plugin", "healthcheck", "http://127.0.0.1:3100/health/live"}},
		{[]string{"CMD-SHELL", "wget -q --spider http://127.0.0.1:3100/health/live"},
			[]string{"/bin/sh", "-c", "wget -q --spider http://127.0.0.1:3100/health/live"}},
		{[]string{"NONE"}, nil},
		{[]string{"CMD"}, nil},
		{nil, nil},
	}
	for _, c := range cases {
		if got := probeCommand(c.test); !reflect.DeepEqual(got, c.want) {
			t.Errorf("probeCommand(%q) = %q, want %q", c.test, got, c.want)
		}
	}
}

// recordPauses replaces waitHealthy's sleep with one that records the pauses and
// returns at once, so the probe schedule is checked exactly, without timing.
func recordPauses(t *testing.T) *[]time.Duration {
	t.Helper()
	var pauses []time.Duration
	saved := sleepFor
	sleepFor = func(ctx context.Context, d time.Duration) error {
		pauses = append(pauses, d)
		return ctx.Err()
	}
	t.Cleanup(func() { sleepFor = saved })
	return &pauses
}

func TestWaitProbesWithBackOffAndConfirmsOnceStableForAfterTheFirstPass(t *testing.T) {
	ms := time.Millisecond
	cases := map[string]struct {
		exits     []int
		restartOn int
		pauses    []time.Duration
	}{
		// Failing probes back off 50 → 100 → 200 → 200 ms; the first pass is confirmed once, 0.5 s later.
		"back-off then pass": {[]int{1, 1, 1, 1, 0, 0}, 0, []time.Duration{50 * ms, 100 * ms, 200 * ms, 200 * ms, 500 * ms}},
		// A failed confirmation resumes the back-off; the next pass is confirmed again.
		"confirmation fails": {[]int{0, 1, 0, 0}, 0, []time.Duration{500 * ms, 50 * ms, 500 * ms}},
		// A pass in another run of the container (it restarted) is a first pass, not a confirmation.
		"restart in between": {[]int{0, 0, 0}, 1, []time.Duration{500 * ms, 500 * ms}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			pauses := recordPauses(t)
			f := newFakeEngine()
			f.health = []string{"starting"} // Docker's own first check never comes
			f.probeExits, f.restartOn = c.exits, c.restartOn
			if _, err := create(t, f.serve(t), containerURN, container(nil)); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*pauses, c.pauses) {
				t.Errorf("pauses = %v, want %v", *pauses, c.pauses)
			}
			if f.execs != len(c.exits) {
				t.Errorf("%d probes ran, want %d", f.execs, len(c.exits))
			}
		})
	}
}

func TestWaitTrustsDockerAndNeverPassesOnAFailingProbe(t *testing.T) {
	recordPauses(t)
	f := newFakeEngine()
	f.health = []string{"starting", "starting", "unhealthy"}
	f.probeExits = []int{1, 1, 1, 1}
	_, err := create(t, f.serve(t), containerURN, container(nil))
	if err == nil || !strings.Contains(err.Error(), "became unhealthy") {
		t.Fatalf("err = %v, want Docker's verdict", err)
	}
	f = newFakeEngine()
	f.health = []string{"starting", "healthy"}
	f.probeExits = []int{1}
	if _, err := create(t, f.serve(t), containerURN, container(nil)); err != nil {
		t.Fatalf("Docker's own healthy: %v", err)
	}
}
