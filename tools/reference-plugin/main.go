// Command plugin is the Plexica reference plugin: one static binary that every
// locally shipped plugin image runs. Its identity comes from the environment
// (PLUGIN_ID, PLUGIN_VERSION, PORT) and it implements the deployment guide's
// health, metrics and logging contract.
//
// Usage:
//
//	plugin                     serve HTTP (default)
//	plugin serve               same
//	plugin healthcheck [URL]   exit 0 iff URL answers HTTP 200 (for Docker HEALTHCHECK;
//	                           default URL http://127.0.0.1:$PORT/health/live)
//	plugin version             print the binary's version string
//	plugin sh -c 'CMD'         minimal shell (see minsh.go); also used when the
//	                           binary is invoked as /bin/sh, so Docker's shell-form
//	                           health checks work in an image without a shell
//
// Environment:
//
//	PLUGIN_ID, PLUGIN_VERSION  identity (defaults "reference", "1.0.0")
//	PORT, HOST                 listen address (defaults 3100, 0.0.0.0)
//	LOG_LEVEL                  error | warn | info | debug (default info)
//	DATABASE_URL, REDIS_URL, CORE_API_URL, KAFKA_BROKERS, JWT_SECRET, NODE_ENV
//	                           accepted as in the guide; values are never logged
//	READY_DEPENDENCIES         comma-separated "URL" or "name=URL" entries that must
//	                           answer HTTP 200 for /health/ready to be 200
//	READY_TIMEOUT_MS           per-dependency timeout (default 500)
//	SHUTDOWN_TIMEOUT_SECONDS   SIGTERM drain budget (default 25)
//
// TEST-ONLY fault switch (used by rollback tests, never set it in production):
//
//	PLEXICA_SIMULATE=unhealthy  /health/live, /health/ready and /health answer 503
//	PLEXICA_SIMULATE=crash      the process exits with status 1 shortly after start
//	                            (PLEXICA_SIMULATE_CRASH_DELAY_MS, default 200)
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const binaryVersion = "plexica-reference-plugin/1"

func main() {
	// Invoked through the image's /bin/sh link: act as a minimal `sh -c`.
	if filepath.Base(os.Args[0]) == "sh" {
		os.Exit(runSh(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 {
		cmd = args[0]
		args = args[1:]
	}
	switch cmd {
	case "serve":
		return serve(stdout)
	case "healthcheck":
		return healthcheck(args, stdout, stderr)
	case "sh":
		return runSh(args, stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, binaryVersion)
		return 0
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, "usage: plugin [serve | healthcheck [URL] | version]")
		return 0
	default:
		fmt.Fprintf(stderr, "unknown command %q (usage: plugin [serve | healthcheck [URL] | version])\n", cmd)
		return 2
	}
}

// healthcheck exits 0 if the URL answers HTTP 200, 1 otherwise. The image has
// no wget/curl, so Docker's HEALTHCHECK runs this.
func healthcheck(args []string, stdout, stderr io.Writer) int {
	if len(args) > 1 {
		fmt.Fprintln(stderr, "usage: plugin healthcheck [URL]")
		return 2
	}
	target := "http://127.0.0.1:" + envOr(os.Getenv, "PORT", "3100") + "/health/live"
	if len(args) == 1 {
		target = args[0]
	}
	timeout, err := envDuration(os.Getenv, "HEALTHCHECK_TIMEOUT_MS", 3*time.Second, time.Millisecond)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	client := &http.Client{
		Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	resp, err := client.Get(target)
	if err != nil {
		fmt.Fprintf(stderr, "unhealthy: %v\n", err)
		return 1
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "unhealthy: HTTP %d from %s\n", resp.StatusCode, target)
		return 1
	}
	fmt.Fprintf(stdout, "healthy: HTTP 200 from %s\n", target)
	return 0
}

// logWriter adapts net/http's internal error log to structured JSON lines.
type logWriter struct{ l *logger }

func (w logWriter) Write(b []byte) (int, error) {
	w.l.Warn(nil, "http server: "+strings.TrimSpace(string(b)))
	return len(b), nil
}

func serve(stdout io.Writer) int {
	start := time.Now()
	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		newLogger(stdout, levelDebug).Error(nil, "invalid configuration", field{"error", err.Error()})
		return 2
	}
	log := newLogger(stdout, cfg.LogLevel,
		field{"pluginId", cfg.PluginID}, field{"version", cfg.Version})
	if !cfg.LogLevelValid {
		log.Warn(nil, "unknown LOG_LEVEL, using info")
	}

	p := newPlugin(cfg, log, start)
	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Error(nil, "cannot listen", field{"address", addr}, field{"error", err.Error()})
		return 1
	}
	srv := &http.Server{
		Handler:           p,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          newStdLogger(log),
	}

	depNames := make([]string, 0, len(cfg.Dependencies))
	for _, d := range cfg.Dependencies {
		depNames = append(depNames, d.Name)
	}
	log.Info(nil, "plugin listening",
		field{"address", ln.Addr().String()},
		field{"env", redactedEnv(os.Getenv)},
		field{"readyDependencies", depNames},
		field{"simulate", nullable(cfg.Simulate)},
	)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	errCh := make(chan error, 1)
	go func() { errCh <- srv.Serve(ln) }()

	var crash <-chan time.Time
	if cfg.Simulate == simulateCrash {
		crash = time.After(cfg.CrashDelay)
	}
	select {
	case err := <-errCh:
		log.Error(nil, "server stopped unexpectedly", field{"error", fmt.Sprint(err)})
		return 1
	case <-crash:
		log.Error(nil, "simulated crash (PLEXICA_SIMULATE=crash, test-only); exiting with status 1")
		return 1
	case <-ctx.Done():
	}
	stop()

	p.draining.Store(true)
	log.Info(nil, "shutdown signal received, draining in-flight requests",
		field{"timeoutSeconds", cfg.ShutdownTimeout.Seconds()})
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn(nil, "graceful shutdown timed out; closing remaining connections",
			field{"error", err.Error()})
		_ = srv.Close()
		return 1
	}
	if err := <-errCh; err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn(nil, "server error during shutdown", field{"error", err.Error()})
	}
	log.Info(nil, "shutdown complete", field{"uptime", p.uptime()})
	return 0
}
