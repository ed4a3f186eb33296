package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func testPlugin(t *testing.T, env map[string]string) (*plugin, *bytes.Buffer) {
	t.Helper()
	cfg, err := loadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	return newPlugin(cfg, newLogger(&buf, levelDebug), time.Now()), &buf
}

func get(t *testing.T, h http.Handler, path string) (int, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	var body map[string]any
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("%s: bad JSON %q: %v", path, rec.Body.String(), err)
		}
	}
	return rec.Code, body
}

func TestParseDependencies(t *testing.T) {
	deps, err := parseDependencies(" http://a:3100/health/live, crm=http://b:1/x ,http://a:3200/y")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a", "crm", "a:3200"}
	for i, d := range deps {
		if d.Name != want[i] {
			t.Errorf("dep %d name %q, want %q", i, d.Name, want[i])
		}
	}
	if _, err := parseDependencies("ftp://x"); err == nil {
		t.Error("expected error for non-http URL")
	}
}

func TestRoutesWithAndWithoutPrefix(t *testing.T) {
	p, _ := testPlugin(t, map[string]string{"PLUGIN_ID": "crm", "PLUGIN_VERSION": "1.2.0"})
	for _, path := range []string{"/items", "/api/plugins/crm/items", "/api/plugins/crm/items/"} {
		code, body := get(t, p, path)
		if code != 200 || body["pluginId"] != "crm" || body["version"] != "1.2.0" {
			t.Errorf("%s: %d %v", path, code, body)
		}
	}
	if code, _ := get(t, p, "/api/plugins/other/items"); code != 404 {
		t.Errorf("foreign prefix: %d", code)
	}
	code, body := get(t, p, "/health")
	if code != 200 || body["status"] != "healthy" || body["version"] != "1.2.0" {
		t.Errorf("/health: %d %v", code, body)
	}
}

func TestSimulateUnhealthy(t *testing.T) {
	p, _ := testPlugin(t, map[string]string{"PLEXICA_SIMULATE": "unhealthy"})
	for path, status := range map[string]string{
		"/health/live": "error", "/health/ready": "not_ready", "/health": "unhealthy",
	} {
		code, body := get(t, p, path)
		if code != 503 || body["status"] != status {
			t.Errorf("%s: %d %v", path, code, body)
		}
	}
}

func TestMetricsExposition(t *testing.T) {
	p, _ := testPlugin(t, nil)
	get(t, p, "/health/live")
	get(t, p, "/does-not-exist")
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	text := rec.Body.String()
	for _, want := range []string{
		`http_requests_total{method="GET",route="/health/live",status_code="200"} 1`,
		`http_requests_total{method="GET",route="unmatched",status_code="404"} 1`,
		`http_request_duration_seconds_bucket{method="GET",route="/health/live",status_code="200",le="+Inf"} 1`,
		"# TYPE http_request_duration_seconds histogram",
		"process_uptime_seconds ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics missing %q:\n%s", want, text)
		}
	}
}

func TestLogFieldsAndRedaction(t *testing.T) {
	env := map[string]string{"JWT_SECRET": "s3cr3t-value", "DATABASE_URL": "postgresql://u:pw@db/x"}
	p, buf := testPlugin(t, env)
	req := httptest.NewRequest(http.MethodGet, "/items", nil)
	req.Header.Set("X-Trace-ID", "trace-1")
	req.Header.Set("X-User-ID", "user-1")
	req.Header.Set("X-Tenant-ID", "tenant-1")
	p.ServeHTTP(httptest.NewRecorder(), req)
	p.log.Info(nil, "config", field{"env", redactedEnv(func(k string) string { return env[k] })})
	out := buf.String()
	if strings.Contains(out, "s3cr3t-value") || strings.Contains(out, "pw@db") {
		t.Fatalf("secret leaked: %s", out)
	}
	first := strings.SplitN(out, "\n", 2)[0]
	var line map[string]any
	if err := json.Unmarshal([]byte(first), &line); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"requestId": "trace-1", "userId": "user-1", "tenantId": "tenant-1", "level": "info"} {
		if line[k] != v {
			t.Errorf("log field %s = %v, want %s", k, line[k], v)
		}
	}
	for _, k := range []string{"timestamp", "message"} {
		if _, ok := line[k]; !ok {
			t.Errorf("log line lacks %s", k)
		}
	}
}

func TestMiniShell(t *testing.T) {
	var out, errOut bytes.Buffer
	cases := map[string]int{
		"true":                        0,
		"false":                       1,
		"false || exit 1":             1,
		"true && exit 7":              7,
		"false && exit 7":             1,
		"false || true":               0,
		"exit 3; exit 4":              3,
		"echo hi | cat":               2,
		"echo $HOME":                  2,
		"'unterminated":               2,
		"/nonexistent/binary arg":     127,
		"true # comment with | and $": 0,
		`"false" || 'exit' "5"`:       5,
	}
	for script, want := range cases {
		if got := runSh([]string{"-c", script}, &out, &errOut); got != want {
			t.Errorf("sh -c %q = %d, want %d (stderr %q)", script, got, want, errOut.String())
		}
	}
	cmds, err := shParse(`/plugin healthcheck "http://127.0.0.1:3100/health/live" || exit 1`)
	if err != nil || len(cmds) != 2 || len(cmds[0].argv) != 3 || cmds[1].op != "||" {
		t.Fatalf("parse: %+v %v", cmds, err)
	}
}
