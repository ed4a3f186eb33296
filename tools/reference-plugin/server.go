package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type plugin struct {
	cfg      *config
	log      *logger
	metrics  *metrics
	start    time.Time
	client   *http.Client
	draining atomic.Bool

	checkMu      sync.Mutex
	checkFailing map[string]bool
	routes       map[string]http.HandlerFunc
	prefix       string
}

func newPlugin(cfg *config, log *logger, start time.Time) *plugin {
	transport := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: cfg.ReadyTimeout}).DialContext,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     30 * time.Second,
	}
	p := &plugin{
		cfg:     cfg,
		log:     log,
		metrics: newMetrics(start, cfg.PluginID, cfg.Version),
		start:   start,
		client:  &http.Client{Transport: transport},
		prefix:  "/api/plugins/" + cfg.PluginID,

		checkFailing: map[string]bool{},
	}
	p.routes = map[string]http.HandlerFunc{
		"/health/live":  p.handleLive,
		"/health/ready": p.handleReady,
		"/health":       p.handleHealth,
		"/metrics":      p.handleMetrics,
		"/items":        p.handleItems,
		"/info":         p.handleInfo,
	}
	return p
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	data, err := json.Marshal(body)
	if err != nil {
		status, data = http.StatusInternalServerError, []byte(`{"error":"internal_error"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(data, '\n'))
}

func now() string { return timestamp(time.Now()) }

func (p *plugin) uptime() float64 {
	return math.Round(time.Since(p.start).Seconds()*1000) / 1000
}

// GET /health/live — process liveness only, never checks dependencies.
func (p *plugin) handleLive(w http.ResponseWriter, _ *http.Request) {
	if p.cfg.Simulate == simulateUnhealthy {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "error", "timestamp": now()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "timestamp": now()})
}

// runChecks evaluates readiness checks: /tmp writable and each dependency URL.
func (p *plugin) runChecks(ctx context.Context) (map[string]string, bool) {
	checks := map[string]string{}
	var mu sync.Mutex
	set := func(k, v string) { mu.Lock(); checks[k] = v; mu.Unlock() }

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		err := checkTmpWritable()
		p.noteCheck("tmp", err)
		if err != nil {
			set("tmp", "error")
			return
		}
		set("tmp", "ok")
	}()
	for _, dep := range p.cfg.Dependencies {
		wg.Add(1)
		go func(dep dependency) {
			defer wg.Done()
			err := p.checkURL(ctx, dep.URL)
			p.noteCheck(dep.Name, err)
			if err != nil {
				set(dep.Name, "error")
				return
			}
			set(dep.Name, "ok")
		}(dep)
	}
	wg.Wait()

	if p.cfg.Simulate == simulateUnhealthy {
		checks["simulate"] = "error"
	}
	if p.draining.Load() {
		checks["server"] = "error"
	}
	allOK := true
	for _, v := range checks {
		if v != "ok" {
			allOK = false
		}
	}
	return checks, allOK
}

// noteCheck logs readiness check transitions (ok -> error and back) instead of
// every probe, so a failing dependency does not flood the log.
func (p *plugin) noteCheck(name string, err error) {
	failing := err != nil
	p.checkMu.Lock()
	prev, seen := p.checkFailing[name]
	p.checkFailing[name] = failing
	p.checkMu.Unlock()
	switch {
	case failing && (!seen || !prev):
		p.log.Warn(nil, "readiness check failing", field{"check", name}, field{"error", err.Error()})
	case !failing && seen && prev:
		p.log.Info(nil, "readiness check recovered", field{"check", name})
	}
}

func checkTmpWritable() error {
	f, err := os.CreateTemp(os.TempDir(), ".plexica-ready-*")
	if err != nil {
		return err
	}
	name := f.Name()
	_, werr := f.Write([]byte("ok"))
	cerr := f.Close()
	rerr := os.Remove(name)
	for _, e := range []error{werr, cerr, rerr} {
		if e != nil {
			return e
		}
	}
	return nil
}

func (p *plugin) checkURL(ctx context.Context, u string) error {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.ReadyTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		// Drop the URL from the message: only the dependency name is logged.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			return uerr.Err
		}
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

// GET /health/ready — 200 ready / 503 not_ready with per-check detail.
func (p *plugin) handleReady(w http.ResponseWriter, r *http.Request) {
	checks, ok := p.runChecks(r.Context())
	status, code := "ready", http.StatusOK
	if !ok {
		status, code = "not_ready", http.StatusServiceUnavailable
	}
	writeJSON(w, code, map[string]any{"status": status, "timestamp": now(), "checks": checks})
}

// GET /health — full format: status, timestamp, version, uptime, checks.
func (p *plugin) handleHealth(w http.ResponseWriter, r *http.Request) {
	checks, ok := p.runChecks(r.Context())
	status, code := "healthy", http.StatusOK
	if !ok {
		status, code = "unhealthy", http.StatusServiceUnavailable
	}
	writeJSON(w, code, map[string]any{
		"status":    status,
		"timestamp": now(),
		"version":   p.cfg.Version,
		"uptime":    p.uptime(),
		"checks":    checks,
	})
}

func (p *plugin) handleMetrics(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	p.metrics.write(w)
}

func (p *plugin) handleItems(w http.ResponseWriter, r *http.Request) {
	rc := requestContext(r)
	p.log.Info(rc, "listing items")
	writeJSON(w, http.StatusOK, map[string]any{
		"pluginId": p.cfg.PluginID,
		"version":  p.cfg.Version,
		"tenantId": nullable(rc.TenantID),
		"items": []map[string]string{
			{"id": "item-1", "name": "Sample item 1"},
			{"id": "item-2", "name": "Sample item 2"},
		},
	})
}

func (p *plugin) handleInfo(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"pluginId": p.cfg.PluginID,
		"version":  p.cfg.Version,
		"uptime":   p.uptime(),
	})
}

type ctxKey struct{}

func requestContext(r *http.Request) *reqCtx {
	if rc, ok := r.Context().Value(ctxKey{}).(*reqCtx); ok {
		return rc
	}
	return &reqCtx{}
}

func newRequestID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return fmt.Sprintf("%x", time.Now().UnixNano())
	}
	return hex.EncodeToString(b[:])
}

// statusRecorder captures the status code written by a handler.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// route strips the optional /api/plugins/<PLUGIN_ID> prefix and returns the
// route template used both for dispatch and as the metrics label.
func (p *plugin) route(path string) string {
	if path == p.prefix {
		path = "/"
	} else if strings.HasPrefix(path, p.prefix+"/") {
		path = path[len(p.prefix):]
	}
	if len(path) > 1 {
		path = strings.TrimRight(path, "/")
	}
	return path
}

func (p *plugin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	started := time.Now()
	rc := &reqCtx{
		RequestID: r.Header.Get("X-Trace-ID"),
		UserID:    r.Header.Get("X-User-ID"),
		TenantID:  r.Header.Get("X-Tenant-ID"),
	}
	if rc.RequestID == "" {
		rc.RequestID = newRequestID()
	}
	w.Header().Set("X-Trace-ID", rc.RequestID)
	r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, rc))
	rec := &statusRecorder{ResponseWriter: w}

	path := p.route(r.URL.Path)
	handler, known := p.routes[path]
	label := path
	if !known {
		label = "unmatched"
	}
	p.metrics.begin()
	defer func() {
		if v := recover(); v != nil {
			p.log.Error(rc, "handler panic", field{"panic", fmt.Sprint(v)})
			if rec.status == 0 {
				writeJSON(rec, http.StatusInternalServerError, map[string]any{"error": "internal_error"})
			}
		}
		elapsed := time.Since(started)
		p.metrics.observe(r.Method, label, rec.status, elapsed)
		level := levelInfo
		if strings.HasPrefix(label, "/health") || label == "/metrics" {
			level = levelDebug // probes and scrapes are frequent: keep them out of info logs
		}
		if rec.status >= 500 {
			level = levelWarn
		}
		p.log.log(level, rc, "request completed",
			field{"method", r.Method},
			field{"url", r.URL.Path},
			field{"route", label},
			field{"statusCode", rec.status},
			field{"durationMs", math.Round(elapsed.Seconds()*1e6) / 1e3},
		)
	}()

	switch {
	case !known:
		writeJSON(rec, http.StatusNotFound, map[string]any{"error": "not_found", "path": r.URL.Path})
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		rec.Header().Set("Allow", "GET, HEAD")
		writeJSON(rec, http.StatusMethodNotAllowed, map[string]any{"error": "method_not_allowed"})
	default:
		handler(rec, r)
	}
}
