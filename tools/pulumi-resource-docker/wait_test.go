package main

import (
	"reflect"
	"testing"
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
