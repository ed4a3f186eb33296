package main

import (
	"encoding/json"
	"io"
	stdlog "log"
	"strings"
	"sync"
	"time"
)

// Log levels, lowest to highest severity (the guide's set: error, warn, info, debug).
const (
	levelDebug = iota
	levelInfo
	levelWarn
	levelError
)

var levelNames = map[int]string{
	levelDebug: "debug",
	levelInfo:  "info",
	levelWarn:  "warn",
	levelError: "error",
}

func parseLevel(s string) (int, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug", "trace":
		return levelDebug, true
	case "", "info":
		return levelInfo, true
	case "warn", "warning":
		return levelWarn, true
	case "error", "fatal":
		return levelError, true
	}
	return levelInfo, false
}

// field is one key/value of a structured log line; order is preserved.
type field struct {
	Key   string
	Value any
}

// reqCtx carries the request-scoped fields required by the guide's
// logging standard (requestId from X-Trace-ID, userId, tenantId).
type reqCtx struct {
	RequestID string
	UserID    string
	TenantID  string
}

// logger writes one JSON object per line. It never receives configuration
// values: secrets are only ever reported as "[REDACTED]" or "unset".
type logger struct {
	mu       sync.Mutex
	out      io.Writer
	minLevel int
	base     []field
}

func newLogger(out io.Writer, minLevel int, base ...field) *logger {
	return &logger{out: out, minLevel: minLevel, base: base}
}

func timestamp(t time.Time) string {
	// Same shape as JavaScript's Date.toISOString(): 2026-02-16T10:30:00.000Z
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (l *logger) enabled(level int) bool { return level >= l.minLevel }

func (l *logger) log(level int, rc *reqCtx, msg string, fields ...field) {
	if !l.enabled(level) {
		return
	}
	all := make([]field, 0, 6+len(l.base)+len(fields))
	all = append(all,
		field{"timestamp", timestamp(time.Now())},
		field{"level", levelNames[level]},
		field{"message", msg},
	)
	if rc != nil {
		all = append(all,
			field{"requestId", nullable(rc.RequestID)},
			field{"userId", nullable(rc.UserID)},
			field{"tenantId", nullable(rc.TenantID)},
		)
	}
	all = append(all, l.base...)
	all = append(all, fields...)

	var b strings.Builder
	b.WriteByte('{')
	for i, f := range all {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.Key)
		v, err := json.Marshal(f.Value)
		if err != nil {
			v, _ = json.Marshal("<unserializable>")
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteString("}\n")

	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = io.WriteString(l.out, b.String())
}

func (l *logger) Debug(rc *reqCtx, msg string, f ...field) { l.log(levelDebug, rc, msg, f...) }
func (l *logger) Info(rc *reqCtx, msg string, f ...field)  { l.log(levelInfo, rc, msg, f...) }
func (l *logger) Warn(rc *reqCtx, msg string, f ...field)  { l.log(levelWarn, rc, msg, f...) }
func (l *logger) Error(rc *reqCtx, msg string, f ...field) { l.log(levelError, rc, msg, f...) }

func newStdLogger(l *logger) *stdlog.Logger { return stdlog.New(logWriter{l}, "", 0) }
