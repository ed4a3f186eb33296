package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Default Prometheus histogram buckets (seconds).
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

type seriesKey struct {
	Method string
	Route  string
	Status string
}

type histogram struct {
	counts []uint64 // per bucket, non-cumulative
	sum    float64
	count  uint64
}

// metrics is a tiny hand-written Prometheus registry (text exposition 0.0.4).
type metrics struct {
	mu        sync.Mutex
	requests  map[seriesKey]uint64
	durations map[seriesKey]*histogram
	inFlight  int64
	start     time.Time
	pluginID  string
	version   string
}

func newMetrics(start time.Time, pluginID, version string) *metrics {
	return &metrics{
		requests:  map[seriesKey]uint64{},
		durations: map[seriesKey]*histogram{},
		start:     start,
		pluginID:  pluginID,
		version:   version,
	}
}

func (m *metrics) begin() {
	m.mu.Lock()
	m.inFlight++
	m.mu.Unlock()
}

func (m *metrics) observe(method, route string, status int, d time.Duration) {
	k := seriesKey{Method: method, Route: route, Status: strconv.Itoa(status)}
	secs := d.Seconds()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.inFlight--
	m.requests[k]++
	h := m.durations[k]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(durationBuckets))}
		m.durations[k] = h
	}
	for i, ub := range durationBuckets {
		if secs <= ub {
			h.counts[i]++
			break
		}
	}
	h.sum += secs
	h.count++
}

func escapeLabel(v string) string {
	v = strings.ReplaceAll(v, `\`, `\\`)
	v = strings.ReplaceAll(v, "\n", `\n`)
	return strings.ReplaceAll(v, `"`, `\"`)
}

func (k seriesKey) labels(extra string) string {
	s := fmt.Sprintf(`method="%s",route="%s",status_code="%s"`,
		escapeLabel(k.Method), escapeLabel(k.Route), escapeLabel(k.Status))
	if extra != "" {
		s += "," + extra
	}
	return "{" + s + "}"
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func sortedKeys[V any](m map[seriesKey]V) []seriesKey {
	keys := make([]seriesKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.Route != b.Route {
			return a.Route < b.Route
		}
		if a.Method != b.Method {
			return a.Method < b.Method
		}
		return a.Status < b.Status
	})
	return keys
}

// residentMemoryBytes reads RSS from /proc/self/statm (Linux only; 0 elsewhere).
func residentMemoryBytes() int64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	parts := strings.Fields(string(data))
	if len(parts) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}

func (m *metrics) write(w io.Writer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder

	b.WriteString("# HELP http_requests_total Total number of HTTP requests handled.\n")
	b.WriteString("# TYPE http_requests_total counter\n")
	for _, k := range sortedKeys(m.requests) {
		fmt.Fprintf(&b, "http_requests_total%s %d\n", k.labels(""), m.requests[k])
	}

	b.WriteString("# HELP http_request_duration_seconds Duration of HTTP requests in seconds.\n")
	b.WriteString("# TYPE http_request_duration_seconds histogram\n")
	for _, k := range sortedKeys(m.durations) {
		h := m.durations[k]
		var cum uint64
		for i, ub := range durationBuckets {
			cum += h.counts[i]
			fmt.Fprintf(&b, "http_request_duration_seconds_bucket%s %d\n",
				k.labels(`le="`+formatFloat(ub)+`"`), cum)
		}
		fmt.Fprintf(&b, "http_request_duration_seconds_bucket%s %d\n", k.labels(`le="+Inf"`), h.count)
		fmt.Fprintf(&b, "http_request_duration_seconds_sum%s %s\n", k.labels(""), formatFloat(h.sum))
		fmt.Fprintf(&b, "http_request_duration_seconds_count%s %d\n", k.labels(""), h.count)
	}

	b.WriteString("# HELP http_requests_in_flight HTTP requests currently being served.\n")
	b.WriteString("# TYPE http_requests_in_flight gauge\n")
	fmt.Fprintf(&b, "http_requests_in_flight %d\n", m.inFlight)

	b.WriteString("# HELP process_uptime_seconds Seconds since the plugin process started.\n")
	b.WriteString("# TYPE process_uptime_seconds gauge\n")
	fmt.Fprintf(&b, "process_uptime_seconds %s\n", formatFloat(time.Since(m.start).Seconds()))

	b.WriteString("# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n")
	b.WriteString("# TYPE process_start_time_seconds gauge\n")
	fmt.Fprintf(&b, "process_start_time_seconds %s\n",
		formatFloat(float64(m.start.UnixNano())/1e9))

	b.WriteString("# HELP process_resident_memory_bytes Resident memory size in bytes.\n")
	b.WriteString("# TYPE process_resident_memory_bytes gauge\n")
	fmt.Fprintf(&b, "process_resident_memory_bytes %d\n", residentMemoryBytes())

	b.WriteString("# HELP go_goroutines Number of goroutines that currently exist.\n")
	b.WriteString("# TYPE go_goroutines gauge\n")
	fmt.Fprintf(&b, "go_goroutines %d\n", runtime.NumGoroutine())

	b.WriteString("# HELP plugin_info Plugin identity (always 1).\n")
	b.WriteString("# TYPE plugin_info gauge\n")
	fmt.Fprintf(&b, "plugin_info{plugin_id=\"%s\",version=\"%s\"} 1\n",
		escapeLabel(m.pluginID), escapeLabel(m.version))

	_, _ = io.WriteString(w, b.String())
}
