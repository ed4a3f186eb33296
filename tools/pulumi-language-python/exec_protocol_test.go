package main

// The host runs programs through the SDK's own exec script
// (python/cmd/pulumi-language-python-exec of the pinned sdk/v3 module). These tests pin
// the host to that script's protocol: the command line Run builds must parse with the
// script's own argument parser (read from the module cache, not copied here), and the
// config must arrive in the environment variables the SDK's runtime reads.

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/structpb"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// sdkDir is the pinned sdk/v3 module in the module cache.
func sdkDir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/pulumi/pulumi/sdk/v3").Output()
	if err != nil {
		t.Fatalf("go list the sdk/v3 module: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// parserBlock is the argument parser of the SDK's exec script, verbatim.
func parserBlock(t *testing.T, script string) string {
	t.Helper()
	block := regexp.MustCompile(`(?s)\n([ \t]*)(ap = argparse\.ArgumentParser.*?args = ap\.parse_args\(\))`).
		FindStringSubmatch(script)
	if block == nil {
		t.Fatal("the SDK's exec script has no `ap = argparse.ArgumentParser ... args = ap.parse_args()` block")
	}
	lines := strings.Split(block[2], "\n")
	for i, line := range lines {
		lines[i] = strings.TrimPrefix(line, block[1])
	}
	return strings.Join(lines, "\n")
}

// recorder is a stand-in exec script: it parses its command line with the SDK's parser
// and writes what it received to $RECORD.
const recorder = `import argparse, json, os, sys
%s
json.dump({"args": vars(args), "parallel": int(args.parallel),
           "config": json.loads(os.environ["PULUMI_CONFIG"]),
           "secret_keys": json.loads(os.environ["PULUMI_CONFIG_SECRET_KEYS"])},
          open(os.environ["RECORD"], "w"))
`

func TestRunSpeaksTheSDKExecProtocol(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Fatal("python3 is needed to run the SDK's argument parser")
	}
	sdk := sdkDir(t)
	script, err := os.ReadFile(filepath.Join(sdk, "python", "cmd", execScriptName))
	if err != nil {
		t.Fatal(err)
	}
	runtimeConfig, err := os.ReadFile(filepath.Join(sdk, "python", "lib", "pulumi", "runtime", "config.py"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{`"PULUMI_CONFIG"`, `"PULUMI_CONFIG_SECRET_KEYS"`} {
		if !strings.Contains(string(runtimeConfig), name) {
			t.Fatalf("the SDK runtime no longer reads %s", name)
		}
	}

	dir := t.TempDir()
	fake := filepath.Join(dir, execScriptName)
	code := strings.Replace(recorder, "%s", parserBlock(t, string(script)), 1)
	if err := os.WriteFile(fake, []byte(code), 0o755); err != nil {
		t.Fatal(err)
	}
	record := filepath.Join(dir, "record.json")
	t.Setenv("RECORD", record)

	h := newHost(fake, "http://tracing.invalid")
	h.engineAddress = "127.0.0.1:50001"
	options, _ := structpb.NewStruct(map[string]any{"toolchain": "pip"})
	for _, dryRun := range []bool{true, false} {
		resp, err := h.Run(context.Background(), &pulumirpc.RunRequest{
			MonitorAddress: "127.0.0.1:50002", Project: "plexica-infra", Stack: "local", Pwd: dir,
			DryRun: dryRun, Parallel: 0, Organization: "organization", Args: []string{"extra", "x"},
			Config:           map[string]string{"plexica-infra:target": "docker", "plexica-infra:token": "s3cret"},
			ConfigSecretKeys: []string{"plexica-infra:token"},
			Info:             &pulumirpc.ProgramInfo{RootDirectory: dir, ProgramDirectory: dir, EntryPoint: ".", Options: options},
		})
		if err != nil || resp.GetError() != "" {
			t.Fatalf("run: %v %q", err, resp.GetError())
		}
		data, err := os.ReadFile(record)
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Args       map[string]any    `json:"args"`
			Parallel   int               `json:"parallel"`
			Config     map[string]string `json:"config"`
			SecretKeys []string          `json:"secret_keys"`
		}
		if err := json.Unmarshal(data, &got); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"monitor": "127.0.0.1:50002", "engine": "127.0.0.1:50001", "project": "plexica-infra",
			"stack": "local", "pwd": dir, "root_directory": dir, "organization": "organization",
			"tracing": "http://tracing.invalid", "PROGRAM": "."}
		for key, value := range want {
			if got.Args[key] != value {
				t.Errorf("--%s = %v, want %v", key, got.Args[key], value)
			}
		}
		if got.Args["dry_run"] != map[bool]string{true: "true", false: "false"}[dryRun] {
			t.Errorf("dry_run = %v: the SDK compares it with the string \"true\"", got.Args["dry_run"])
		}
		if extra, _ := json.Marshal(got.Args["ARGS"]); string(extra) != `["extra","x"]` {
			t.Errorf("program arguments = %s", extra)
		}
		if got.Parallel != 0 || got.Config["plexica-infra:target"] != "docker" ||
			strings.Join(got.SecretKeys, ",") != "plexica-infra:token" {
			t.Errorf("parallel/config: %+v", got)
		}
	}
}

func TestRunReportsAProgramThatCannotStart(t *testing.T) {
	h := newHost(filepath.Join(t.TempDir(), "missing-exec-script"), "")
	resp, err := h.Run(context.Background(), &pulumirpc.RunRequest{Info: &pulumirpc.ProgramInfo{
		RootDirectory: t.TempDir(), ProgramDirectory: t.TempDir(), EntryPoint: "."}})
	if err == nil && resp.GetError() == "" && !resp.GetBail() {
		t.Fatal("a missing exec script must fail the run")
	}
}

// lockedBuffer collects a program's output written from the command's copy goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// A failed preview ends the engine's Run call while the program still waits for its
// last resource calls. The program must stop without a traceback in the engine's
// diagnostics (SIGINT made Python print KeyboardInterrupt there).
func TestACancelledRunStopsTheProgramWithoutATraceback(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Fatal("python3 is needed to run the stand-in program")
	}
	dir := t.TempDir()
	fake := filepath.Join(dir, execScriptName)
	program := "import sys, time\nprint('waiting', flush=True)\ntry:\n    time.sleep(60)\nfinally:\n    print('finally ran', file=sys.stderr, flush=True)\n"
	if err := os.WriteFile(fake, []byte(program), 0o755); err != nil {
		t.Fatal(err)
	}
	h := newHost(fake, "")
	var stdout, stderr lockedBuffer
	h.stdout, h.stderr = &stdout, &stderr
	options, _ := structpb.NewStruct(map[string]any{"toolchain": "pip"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		_, err := h.Run(ctx, &pulumirpc.RunRequest{Pwd: dir, Info: &pulumirpc.ProgramInfo{
			RootDirectory: dir, ProgramDirectory: dir, EntryPoint: ".", Options: options}})
		done <- err
	}()
	for !strings.Contains(stdout.String(), "waiting") {
		if time.Since(start) > 30*time.Second {
			t.Fatalf("the program never started: stdout %q stderr %q", stdout.String(), stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the cancelled program was not stopped")
	}
	if out := stderr.String(); strings.Contains(out, "Traceback") || strings.Contains(out, "KeyboardInterrupt") {
		t.Fatalf("a cancelled run printed a traceback into the engine's diagnostics:\n%s", out)
	}
}
