package main

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// sensitiveEnv lists the guide's runtime variables. Their values are never
// logged: the startup line only says whether each one is set.
var sensitiveEnv = []string{
	"DATABASE_URL", "REDIS_URL", "CORE_API_URL", "KAFKA_BROKERS",
	"JWT_SECRET", "LOG_LEVEL", "NODE_ENV",
}

const (
	simulateNone      = ""
	simulateUnhealthy = "unhealthy"
	simulateCrash     = "crash"
)

type dependency struct {
	Name string
	URL  string
}

type config struct {
	PluginID        string
	Version         string
	Host            string
	Port            int
	LogLevel        int
	LogLevelValid   bool
	Simulate        string
	Dependencies    []dependency
	ReadyTimeout    time.Duration
	ShutdownTimeout time.Duration
	CrashDelay      time.Duration
}

func envOr(getenv func(string) string, key, def string) string {
	if v := strings.TrimSpace(getenv(key)); v != "" {
		return v
	}
	return def
}

func envDuration(getenv func(string) string, key string, def time.Duration, unit time.Duration) (time.Duration, error) {
	v := strings.TrimSpace(getenv(key))
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseFloat(v, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s must be a non-negative number, got %q", key, v)
	}
	return time.Duration(n * float64(unit)), nil
}

// parseDependencies parses READY_DEPENDENCIES: comma-separated entries, each
// either "URL" or "name=URL". Unnamed entries are named after the URL's host.
func parseDependencies(raw string) ([]dependency, error) {
	var deps []dependency
	seen := map[string]bool{}
	for _, entry := range strings.Split(raw, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		name, rawURL := "", entry
		if i := strings.Index(entry, "="); i > 0 && !strings.Contains(entry[:i], "/") {
			name, rawURL = strings.TrimSpace(entry[:i]), strings.TrimSpace(entry[i+1:])
		}
		u, err := url.Parse(rawURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("READY_DEPENDENCIES: %q is not an http(s) URL", rawURL)
		}
		if name == "" {
			name = u.Hostname()
			if seen[name] {
				name = u.Host
			}
			if seen[name] {
				name = u.Host + u.Path
			}
		}
		if seen[name] {
			return nil, fmt.Errorf("READY_DEPENDENCIES: duplicate dependency name %q", name)
		}
		seen[name] = true
		deps = append(deps, dependency{Name: name, URL: rawURL})
	}
	return deps, nil
}

func loadConfig(getenv func(string) string) (*config, error) {
	c := &config{
		PluginID: envOr(getenv, "PLUGIN_ID", "reference"),
		Version:  envOr(getenv, "PLUGIN_VERSION", "1.0.0"),
		Host:     envOr(getenv, "HOST", "0.0.0.0"),
	}
	portStr := envOr(getenv, "PORT", "3100")
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 1 || port > 65535 {
		return nil, fmt.Errorf("PORT must be an integer in 1..65535")
	}
	c.Port = port
	c.LogLevel, c.LogLevelValid = parseLevel(getenv("LOG_LEVEL"))

	switch sim := strings.ToLower(strings.TrimSpace(getenv("PLEXICA_SIMULATE"))); sim {
	case simulateNone, simulateUnhealthy, simulateCrash:
		c.Simulate = sim
	default:
		return nil, fmt.Errorf("PLEXICA_SIMULATE must be empty, %q or %q", simulateUnhealthy, simulateCrash)
	}

	if c.Dependencies, err = parseDependencies(getenv("READY_DEPENDENCIES")); err != nil {
		return nil, err
	}
	if c.ReadyTimeout, err = envDuration(getenv, "READY_TIMEOUT_MS", 500*time.Millisecond, time.Millisecond); err != nil {
		return nil, err
	}
	if c.ShutdownTimeout, err = envDuration(getenv, "SHUTDOWN_TIMEOUT_SECONDS", 25*time.Second, time.Second); err != nil {
		return nil, err
	}
	if c.CrashDelay, err = envDuration(getenv, "PLEXICA_SIMULATE_CRASH_DELAY_MS", 200*time.Millisecond, time.Millisecond); err != nil {
		return nil, err
	}
	return c, nil
}

// redactedEnv reports, for each sensitive variable, only whether it is set.
func redactedEnv(getenv func(string) string) map[string]string {
	out := make(map[string]string, len(sensitiveEnv))
	for _, k := range sensitiveEnv {
		if getenv(k) != "" {
			out[k] = "[REDACTED]"
		} else {
			out[k] = "unset"
		}
	}
	return out
}
